// Responses built from every kind of body, and what each implies.
export default {
  async fetch(request) {
    const kind = new URL(request.url).pathname.slice(1);
    switch (kind) {
      case 'string': return new Response('text body');
      case 'uint8': return new Response(new Uint8Array([104, 105]));
      case 'arraybuffer': return new Response(new TextEncoder().encode('from buffer').buffer);
      case 'dataview': return new Response(new DataView(new TextEncoder().encode('xxviewxx').buffer, 2, 4));
      case 'params': return new Response(new URLSearchParams({ q: 'a b', n: '1' }));
      case 'blob': return new Response(new Blob(['<b>', 'bold', '</b>'], { type: 'text/html' }));
      case 'empty': return new Response();
      case 'null-204': return new Response(null, { status: 204, headers: { 'x-empty': '1' } });
      case 'status-text': return new Response('teapot', { status: 418, statusText: "I'm a teapot" });
      case 'json': return Response.json({ nested: { list: [1, 'two', null, true] } }, { status: 202, headers: { 'x-json': 'yes' } });
      case 'json-type': return Response.json([1], { headers: { 'content-type': 'application/vnd.api+json' } });
      case 'number': return new Response(42);
      case 'inspect': {
        const r = new Response('abc', { status: 201, statusText: 'Made', headers: { 'x-a': '1' } });
        const e = Response.error();
        return Response.json({ status: r.status, ok: r.ok, statusText: r.statusText, type: r.type, url: r.url, redirected: r.redirected,
          bodyUsed: r.bodyUsed, text: await r.text(), bodyUsedAfter: r.bodyUsed, errorType: e.type, errorStatus: e.status,
          keys: Object.keys(r), tag: Object.prototype.toString.call(r), isResponse: r instanceof Response });
      }
    }
    return new Response('unknown kind', { status: 404 });
  },
};
