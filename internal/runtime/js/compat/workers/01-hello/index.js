// The smallest worker: a greeting, with the method and path echoed.
export default {
  fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/') return new Response('Hello, world!');
    return new Response(`${request.method} ${url.pathname}`, { headers: { 'x-powered-by': 'compat' } });
  },
};
