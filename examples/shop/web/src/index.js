const page = `<!doctype html>
<html lang="en">
<meta charset="utf-8">
<title>wisp rentals</title>
<h1>wisp rentals</h1>
<p>Bikes, kayaks and tents, served by five small services:</p>
<ul>
  <li><a href="/api/inventory/">GET /api/inventory/</a> (inventory, TypeScript)</li>
  <li>POST /api/cart/quote (cart, JavaScript)</li>
  <li>POST /api/orders (orders, TypeScript)</li>
  <li>reporting is private: <code>wisp invoke reporting</code></li>
</ul>
`;

export default {
  fetch() {
    return new Response(page, { headers: { 'content-type': 'text/html; charset=utf-8' } });
  },
};
