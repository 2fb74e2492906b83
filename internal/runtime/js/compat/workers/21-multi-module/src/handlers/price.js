import formatMoney from '../util/format.js';
import { TAX } from '../util/constants.js';
export function price(request, url) {
  const net = Number(url.searchParams.get('net') || 0);
  return Response.json({ net: formatMoney(net), gross: formatMoney(Math.round(net * (1 + TAX))) });
}
