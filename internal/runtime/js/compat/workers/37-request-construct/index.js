// Building Requests: from URLs, from other requests, with init overrides.
export default {
  async fetch(request) {
    const out = [];
    const a = new Request('https://api.example/v1/items?x=1', { method: 'post', headers: { 'X-Token': 't' }, body: JSON.stringify({ a: 1 }) });
    out.push([a.method, a.url, a.headers.get('x-token'), a.headers.get('content-type'), await a.text()]);
    const spare = request.clone();
    const b = new Request(request, { headers: { 'x-replaced': 'yes' } });
    out.push([b.method, b.url, b.headers.get('x-replaced'), b.headers.get('user-agent'), b.redirect, request.bodyUsed, await b.text()]);
    const c = new Request('https://api.example/other', spare);
    out.push([c.method, c.url, c.headers.get('x-in'), await c.text(), spare.bodyUsed]);
    const d = new Request('https://api.example/', { method: 'patch' });
    out.push([d.method, new Request('http://x.example', { method: 'delete' }).method, d.bodyUsed, d.body, d.cache === undefined ? 'no cache' : d.cache]);
    out.push(request.bodyUsed);
    for (const bad of [() => new Request('https://x.example', { method: 'bad method' }), () => new Request('https://x.example', { method: 'Custom' }), () => new Request('/relative'), () => new Request('https://x.example', { redirect: 'nope' })]) {
      try { bad(); out.push('none'); } catch (e) { out.push(e.name); }
    }
    return Response.json(out);
  },
};
