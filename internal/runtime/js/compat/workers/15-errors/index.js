// Errors: caught ones become JSON 4xx, uncaught ones a 500.
class NotFound extends Error {
  constructor(what) { super(`${what} not found`); this.name = 'NotFound'; this.status = 404; }
}

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    try {
      if (pathname === '/throw') throw new Error('uncaught on purpose');
      if (pathname === '/reject') return Promise.reject(new TypeError('rejected on purpose'));
      if (pathname === '/async-throw') { await null; null.property; }
      if (pathname === '/custom') throw new NotFound('widget');
      if (pathname === '/api-misuse') {
        const msgs = [];
        for (const f of [() => new Response('x', { status: 99 }), () => new Response('x', { status: 204 }), () => new Request('not a url'),
          () => new Request('https://x.example', { method: 'GET', body: 'b' }), () => new Response().headers.append('a b', 'c')]) {
          try { f(); msgs.push('none'); } catch (e) { msgs.push(`${e.name}: ${e.message}`); }
        }
        return Response.json(msgs);
      }
    } catch (e) {
      if (e instanceof NotFound) return Response.json({ error: e.message, name: e.name }, { status: e.status });
      if (pathname !== '/throw') throw e;
      throw e;
    }
    return new Response('fine');
  },
};
