// ctx.waitUntil: work after the response; passThroughOnException accepted.
let background = 0;

export default {
  async fetch(request, env, ctx) {
    ctx.passThroughOnException();
    const url = new URL(request.url);
    if (url.pathname === '/count') {
      // Long enough for the earlier requests' waitUntil work to finish.
      await scheduler.wait(100);
      return new Response(String(background));
    }
    ctx.waitUntil(new Promise((r) => setTimeout(() => { background++; r(); }, 10)));
    ctx.waitUntil(Promise.resolve('ignored value'));
    return new Response('accepted', { status: 202, headers: { 'x-wait-until': typeof ctx.waitUntil } });
  },
};
