// CORS: preflight answers and headers on actual responses.
const allowed = ['https://app.example', 'https://admin.example'];

function corsHeaders(origin) {
  const h = new Headers({ vary: 'Origin' });
  if (allowed.includes(origin)) {
    h.set('access-control-allow-origin', origin);
    h.set('access-control-allow-credentials', 'true');
  }
  return h;
}

export default {
  async fetch(request) {
    const origin = request.headers.get('origin') || '';
    if (request.method === 'OPTIONS') {
      const h = corsHeaders(origin);
      h.set('access-control-allow-methods', 'GET, POST, DELETE');
      h.set('access-control-allow-headers', request.headers.get('access-control-request-headers') || '');
      h.set('access-control-max-age', '86400');
      return new Response(null, { status: 204, headers: h });
    }
    const res = Response.json({ data: 'secret', origin });
    for (const [k, v] of corsHeaders(origin)) res.headers.set(k, v);
    return res;
  },
};
