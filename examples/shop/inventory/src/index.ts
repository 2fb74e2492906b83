import { catalog, findItem } from './catalog';

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const rest = url.pathname.replace(/^\/api\/inventory\/?/, '');
    if (request.method !== 'GET') {
      return Response.json({ error: 'method not allowed' }, { status: 405, headers: { allow: 'GET' } });
    }
    if (rest === '') {
      const inStock = url.searchParams.get('in_stock') === 'true';
      return Response.json({ items: inStock ? catalog.filter((i) => i.stock > 0) : catalog });
    }
    const item = findItem(decodeURIComponent(rest));
    if (!item) {
      return Response.json({ error: `no item ${rest}` }, { status: 404 });
    }
    return Response.json(item);
  },
};
