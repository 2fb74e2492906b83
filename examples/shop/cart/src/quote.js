// quote prices rental lines against env.PRICES (cents per day).
export function quote(items, env) {
  if (!Array.isArray(items) || items.length === 0) {
    return { error: 'items must be a non-empty array' };
  }
  const lines = [];
  let net = 0;
  for (const { sku, days } of items) {
    const daily = env.PRICES[sku];
    if (daily === undefined) return { error: `unknown sku ${sku}` };
    if (!Number.isInteger(days) || days < 1) return { error: `days for ${sku} must be a whole number of at least 1` };
    lines.push({ sku, days, amount: daily * days });
    net += daily * days;
  }
  const vat = Math.round((net * env.VAT_PERCENT) / 100);
  return { currency: env.CURRENCY, lines, net, vat, total: net + vat };
}
