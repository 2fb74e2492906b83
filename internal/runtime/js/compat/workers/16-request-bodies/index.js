// Reading request bodies in every form, and reading twice.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    const mode = url.searchParams.get('as');
    const out = { mode, usedBefore: request.bodyUsed };
    switch (mode) {
      case 'text': out.value = await request.text(); break;
      case 'json': out.value = await request.json(); break;
      case 'arrayBuffer': { const b = await request.arrayBuffer(); out.value = [b.constructor.name, b.byteLength]; break; }
      case 'bytes': { const b = await request.bytes(); out.value = [b.constructor.name, Array.from(b.slice(0, 4))]; break; }
      case 'blob': { const b = await request.blob(); out.value = [b.size, b.type, await b.text()]; break; }
      case 'stream': {
        const reader = request.body.getReader();
        let total = 0;
        for (;;) { const { done, value } = await reader.read(); if (done) break; total += value.byteLength; }
        out.value = total;
        break;
      }
    }
    out.usedAfter = request.bodyUsed;
    try { await request.text(); out.second = 'read again'; } catch (e) { out.second = `${e.name}: ${e.message}`; }
    out.nullBody = request.method === 'GET' ? request.body : 'n/a';
    return Response.json(out);
  },
};
