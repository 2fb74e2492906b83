// A REST router with path parameters, 404 and 405 handling.
const users = new Map([['1', { id: '1', name: 'Ada' }], ['2', { id: '2', name: 'Grace' }]]);

const routes = [
  { method: 'GET', pattern: /^\/users$/, handler: () => Response.json([...users.values()]) },
  { method: 'GET', pattern: /^\/users\/(?<id>[^/]+)$/, handler: (req, p) => {
      const u = users.get(p.id);
      return u ? Response.json(u) : Response.json({ error: 'not found', id: p.id }, { status: 404 });
  } },
  { method: 'DELETE', pattern: /^\/users\/(?<id>[^/]+)$/, handler: (req, p) => new Response(null, { status: 204 }) },
];

export default {
  async fetch(request) {
    const { pathname } = new URL(request.url);
    const matching = routes.filter((r) => r.pattern.test(pathname));
    if (matching.length === 0) return new Response('Not Found', { status: 404 });
    const route = matching.find((r) => r.method === request.method);
    if (!route) {
      return new Response('Method Not Allowed', { status: 405, headers: { allow: matching.map((r) => r.method).join(', ') } });
    }
    const params = pathname.match(route.pattern).groups || {};
    return route.handler(request, params);
  },
};
