import { quote } from './quote.js';

const usage = {
  usage: [
    'POST /api/cart/quote {"items": [{"sku": "bike-city", "days": 2}]}',
    'POST /api/cart/{id}/items {"sku": "bike-city", "days": 2}',
    'GET /api/cart/{id}',
    'POST /api/cart/{id}/checkout',
  ],
};

async function body(request) {
  try {
    return await request.json();
  } catch (e) {
    return undefined;
  }
}

// Carts live in KV under their id, and expire a week after their last
// change.
async function loadCart(env, id) {
  return (await env.CARTS.get(id, 'json')) ?? { items: [] };
}

async function showCart(env, id, cart) {
  const q = cart.items.length > 0 ? await quote(cart.items, env) : null;
  return Response.json({ cart: id, items: cart.items, quote: q });
}

// checkout prices the cart (inventory, through its binding), places the
// order with the orders service (through its binding: no public hop) and
// empties the cart. `wisp trace` on the response's request id shows the
// whole path.
async function checkout(env, id) {
  const cart = await loadCart(env, id);
  if (cart.items.length === 0) return Response.json({ error: `cart ${id} is empty` }, { status: 409 });
  const q = await quote(cart.items, env);
  if (q.error) return Response.json(q, { status: 400 });
  const res = await env.ORDERS.fetch('http://orders/api/orders', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ customer: id, lines: cart.items, total: q.total }),
  });
  const order = await res.json();
  if (!res.ok) return Response.json(order, { status: res.status });
  await env.CARTS.delete(id);
  return Response.json({ order, quote: q }, { status: 201 });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const parts = url.pathname.replace(/^\/api\/cart\/?/, '').split('/');
    if (parts[0] === 'quote' && request.method === 'POST') {
      const b = await body(request);
      if (b === undefined) return Response.json({ error: 'the body must be JSON: {"items": [{"sku": "...", "days": 2}]}' }, { status: 400 });
      const result = await quote(b.items, env);
      return Response.json(result, { status: result.error ? 400 : 200 });
    }
    const id = decodeURIComponent(parts[0] || '');
    if (!/^[a-z0-9-]{1,64}$/.test(id)) return Response.json(usage, { status: parts[0] ? 400 : 200 });
    if (parts[1] === 'items' && request.method === 'POST') {
      const item = await body(request);
      if (item === undefined || typeof item.sku !== 'string') return Response.json({ error: 'the body must be JSON: {"sku": "...", "days": 2}' }, { status: 400 });
      const cart = await loadCart(env, id);
      cart.items.push({ sku: item.sku, days: item.days });
      const q = await quote(cart.items, env);
      if (q.error) return Response.json(q, { status: 400 });
      await env.CARTS.put(id, JSON.stringify(cart), { expirationTtl: 7 * 24 * 3600 });
      return Response.json({ cart: id, items: cart.items, quote: q });
    }
    if (parts[1] === 'checkout' && request.method === 'POST') return checkout(env, id);
    if (parts.length === 1 && request.method === 'GET') return showCart(env, id, await loadCart(env, id));
    if (parts.length === 1 && request.method === 'DELETE') {
      await env.CARTS.delete(id);
      return new Response(null, { status: 204 });
    }
    return Response.json(usage, { status: 404 });
  },
};
