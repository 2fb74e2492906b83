// Charges are kept as keys paid/DAY/ORDER with the amount in their
// metadata, so totalling a day is one paged list and no gets; totals/DAY
// holds the day's last total.
const day = (t) => new Date(t).toISOString().slice(0, 10);

async function totalDay(env, d) {
  let orders = 0;
  let revenue = 0;
  let currency = null;
  let cursor;
  do {
    const page = await env.REPORTS.list({ prefix: `paid/${d}/`, cursor });
    for (const k of page.keys) {
      orders++;
      revenue += k.metadata.amount;
      currency = k.metadata.currency;
    }
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  const totals = { day: d, orders, revenue, currency, computed_at: new Date().toISOString() };
  await env.REPORTS.put(`totals/${d}`, JSON.stringify(totals));
  return totals;
}

export default {
  // Every charge, as payments puts it on the fulfilment queue.
  async queue(batch, env) {
    for (const msg of batch.messages) {
      const c = msg.body;
      await env.REPORTS.put(`paid/${day(c.paid_at)}/${c.order}`, c.id, { metadata: { amount: c.amount, currency: c.currency } });
    }
  },

  // The cron: total the day of the tick.
  async scheduled(controller, env) {
    const t = await totalDay(env, day(controller.scheduledTime));
    console.log(`${t.day}: ${t.orders} orders, ${t.revenue} ${t.currency ?? ''}`);
  },

  async fetch(request, env) {
    const url = new URL(request.url);
    const d = url.searchParams.get('day') ?? day(Date.now());
    if (url.pathname === '/total' && request.method === 'POST') {
      return Response.json({ shop: env.SHOP_NAME, ...(await totalDay(env, d)) });
    }
    const totals = (await env.REPORTS.get(`totals/${d}`, 'json')) ?? { day: d, orders: 0, revenue: 0, computed_at: null };
    return Response.json({ shop: env.SHOP_NAME, ...totals });
  },
};
