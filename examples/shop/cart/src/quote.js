// prices asks inventory for the daily price of each sku, through the
// INVENTORY service binding.
export async function prices(skus, env) {
  const out = {};
  for (const sku of new Set(skus)) {
    const r = await env.INVENTORY.fetch(`https://inventory/api/inventory/${encodeURIComponent(sku)}`);
    if (r.status === 404) continue;
    if (!r.ok) throw new Error(`inventory answered ${r.status} for ${sku}`);
    out[sku] = (await r.json()).dailyPrice;
  }
  return out;
}

// quote prices rental lines (cents per day).
export async function quote(items, env) {
  if (!Array.isArray(items) || items.length === 0) {
    return { error: 'items must be a non-empty array' };
  }
  const daily = await prices(items.map((i) => i.sku), env);
  const lines = [];
  let net = 0;
  for (const { sku, days } of items) {
    if (daily[sku] === undefined) return { error: `unknown sku ${sku}` };
    if (!Number.isInteger(days) || days < 1) return { error: `days for ${sku} must be a whole number of at least 1` };
    lines.push({ sku, days, amount: daily[sku] * days });
    net += daily[sku] * days;
  }
  const vat = Math.round((net * env.VAT_PERCENT) / 100);
  return { currency: env.CURRENCY, lines, net, vat, total: net + vat };
}
