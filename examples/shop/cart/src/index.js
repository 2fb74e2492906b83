import { quote } from './quote.js';

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/api/cart/quote' && request.method === 'POST') {
      let body;
      try {
        body = await request.json();
      } catch (e) {
        return Response.json({ error: 'the body must be JSON: {"items": [{"sku": "...", "days": 2}]}' }, { status: 400 });
      }
      const result = quote(body.items, env);
      return Response.json(result, { status: result.error ? 400 : 200 });
    }
    return Response.json({ usage: 'POST /api/cart/quote {"items": [{"sku": "bike-city", "days": 2}]}' });
  },
};
