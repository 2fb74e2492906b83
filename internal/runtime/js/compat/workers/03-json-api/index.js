// A JSON API: validates the body, computes, and reports errors as JSON.
function bad(message, status = 400) {
  return Response.json({ ok: false, error: message }, { status });
}

export default {
  async fetch(request) {
    if (request.method !== 'POST') return bad('use POST', 405);
    const ct = request.headers.get('content-type') || '';
    if (!ct.startsWith('application/json')) return bad('content-type must be application/json', 415);
    let order;
    try {
      order = await request.json();
    } catch (e) {
      return bad('body is not JSON: ' + e.name);
    }
    if (!Array.isArray(order.items) || order.items.length === 0) return bad('items must be a non-empty array');
    let total = 0;
    const lines = [];
    for (const [i, it] of order.items.entries()) {
      if (typeof it.price !== 'number' || !Number.isInteger(it.qty) || it.qty <= 0) return bad(`item ${i} is invalid`);
      const amount = Math.round(it.price * it.qty * 100) / 100;
      total += amount;
      lines.push({ sku: String(it.sku).toUpperCase(), amount });
    }
    const body = { ok: true, customer: order.customer ?? null, lines, total: Math.round(total * 100) / 100, count: lines.length };
    return Response.json(body, { status: 201, headers: { 'x-total': String(body.total) } });
  },
};
