import { catalog, findItem, Item } from './catalog';

interface Env {
  STOCK: KVNamespace;
  PHOTOS: R2Bucket;
}

// stockOf reads an item's live stock from KV; an item never reserved still
// has its starting stock.
async function stockOf(env: Env, item: Item): Promise<number> {
  const v = await env.STOCK.get(item.sku);
  return v === null ? item.stock : Number(v);
}

async function withStock(env: Env, item: Item): Promise<Item> {
  return { ...item, stock: await stockOf(env, item) };
}

async function reserve(request: Request, env: Env, item: Item): Promise<Response> {
  let qty = 1;
  try {
    const body = await request.json();
    if (body.qty !== undefined) qty = body.qty;
  } catch {
    return Response.json({ error: 'the body must be JSON: {"qty": 1}' }, { status: 400 });
  }
  if (!Number.isInteger(qty) || qty < 1) return Response.json({ error: 'qty must be a whole number of at least 1' }, { status: 400 });
  const stock = await stockOf(env, item);
  if (stock < qty) return Response.json({ error: `only ${stock} of ${item.sku} in stock` }, { status: 409 });
  await env.STOCK.put(item.sku, String(stock - qty));
  return Response.json({ sku: item.sku, reserved: qty, stock: stock - qty });
}

async function photo(request: Request, env: Env, item: Item): Promise<Response> {
  const key = `photos/${item.sku}`;
  if (request.method === 'PUT') {
    const type = request.headers.get('content-type') || 'application/octet-stream';
    if (!type.startsWith('image/')) return Response.json({ error: 'a photo must have an image/* content type' }, { status: 415 });
    const obj = await env.PHOTOS.put(key, await request.arrayBuffer(), { httpMetadata: { contentType: type } });
    return Response.json({ sku: item.sku, photo: { size: obj.size, etag: obj.etag } }, { status: 201 });
  }
  const obj = await env.PHOTOS.get(key);
  if (obj === null) return Response.json({ error: `no photo of ${item.sku} yet` }, { status: 404 });
  const headers = new Headers({ etag: obj.httpEtag });
  obj.writeHttpMetadata(headers);
  return new Response(await obj.arrayBuffer(), { headers });
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [sku, action] = url.pathname.replace(/^\/api\/inventory\/?/, '').split('/').map(decodeURIComponent);
    if (!sku) {
      if (request.method !== 'GET') return Response.json({ error: 'method not allowed' }, { status: 405, headers: { allow: 'GET' } });
      const items = await Promise.all(catalog.map((i) => withStock(env, i)));
      const inStock = url.searchParams.get('in_stock') === 'true';
      return Response.json({ items: inStock ? items.filter((i) => i.stock > 0) : items });
    }
    const item = findItem(sku);
    if (!item) return Response.json({ error: `no item ${sku}` }, { status: 404 });
    switch (`${request.method} ${action ?? ''}`) {
      case 'GET ':
        return Response.json(await withStock(env, item));
      case 'POST reserve':
        return reserve(request, env, item);
      case 'GET photo':
      case 'PUT photo':
        return photo(request, env, item);
    }
    return Response.json({ error: `no such endpoint: ${request.method} ${url.pathname}` }, { status: 404 });
  },
};
