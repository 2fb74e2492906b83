// payments pretends to charge a provider: it needs the provider's API key,
// a secret, and says so clearly until it is set.
function chargeId() {
  return 'pay_' + Date.now().toString(36) + Math.floor(Math.random() * 36 ** 6).toString(36).padStart(6, '0');
}

// price asks inventory for the daily price of each line (cents).
async function price(order, env) {
  let amount = 0;
  for (const { sku, days } of order.lines) {
    const res = await env.INVENTORY.fetch(`http://inventory/api/inventory/${encodeURIComponent(sku)}`);
    if (!res.ok) throw new Error(`inventory does not know ${sku} (${res.status})`);
    amount += (await res.json()).dailyPrice * days;
  }
  return amount;
}

export default {
  // Orders from the orders queue. A message left undecided when the
  // handler throws is retried; one acknowledged is done.
  async queue(batch, env) {
    for (const msg of batch.messages) {
      const order = msg.body;
      if (!env.PAYMENT_API_KEY) {
        console.warn(`order ${order.id}: waiting for the API key (attempt ${msg.attempts})`);
        msg.retry();
        continue;
      }
      const amount = await price(order, env);
      const charge = { id: chargeId(), order: order.id, customer: order.customer, amount, currency: env.CURRENCY, paid_at: new Date().toISOString() };
      await env.FULFILMENT.send(charge);
      console.log(`order ${order.id}: charged ${amount} ${env.CURRENCY} (${charge.id})`);
      msg.ack();
    }
  },

  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== '/api/payments/charge' || request.method !== 'POST') {
      return Response.json({ usage: 'POST /api/payments/charge {"amount": 3630, "currency": "EUR"}' }, { status: 404 });
    }
    const key = env.PAYMENT_API_KEY;
    if (!key) {
      return Response.json({ error: 'payments is not configured: set its API key with `wisp secret put payments PAYMENT_API_KEY`' }, { status: 503 });
    }
    let charge;
    try {
      charge = await request.json();
    } catch (e) {
      return Response.json({ error: 'the body must be JSON: {"amount": 3630, "currency": "EUR"}' }, { status: 400 });
    }
    if (!Number.isInteger(charge.amount) || charge.amount < 1 || typeof charge.currency !== 'string') {
      return Response.json({ error: 'amount (whole cents) and currency are required' }, { status: 422 });
    }
    // A real service would call the provider with the key here (see
    // [outbound] allowed_hosts); the key's prefix says which mode it is in.
    const mode = key.startsWith('sk_test_') ? 'test' : 'live';
    return Response.json({ id: chargeId(), status: 'succeeded', amount: charge.amount, currency: charge.currency, provider: env.PROVIDER, mode }, { status: 201 });
  },
};
