const page = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>wisp rentals</title>
<h1>wisp rentals</h1>
<p>Bikes, kayaks and tents, served by six small services:</p>
<ul>
  <li><a href="/api/inventory/">GET /api/inventory/</a> (inventory, TypeScript: stock in KV, photos in a bucket)</li>
  <li>POST /api/cart/quote, POST /api/cart/{id}/items (cart, JavaScript: carts in KV, prices from inventory through a service binding)</li>
  <li>POST /api/orders (orders, TypeScript)</li>
  <li>POST /api/payments/charge (payments, JavaScript: an API key secret)</li>
  <li>reporting is private: <code>wisp invoke reporting</code></li>
</ul>
`;

export default {
  fetch() {
    return new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  },
};
