// Stream pipelines: TransformStream, TextEncoderStream/TextDecoderStream,
// pipeThrough and pipeTo over a request body.
function upper() {
  return new TransformStream({ transform(chunk, c) { c.enqueue(chunk.toUpperCase()); }, flush(c) { c.enqueue('!'); } });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/upper') {
      const out = request.body.pipeThrough(new TextDecoderStream()).pipeThrough(upper()).pipeThrough(new TextEncoderStream());
      return new Response(out, { headers: { 'content-type': 'text/plain; charset=utf-8' } });
    }
    if (url.pathname === '/count') {
      let chunks = 0, bytes = 0;
      await request.body.pipeTo(new WritableStream({ write(c) { chunks++; bytes += c.byteLength; } }));
      return Response.json({ bytes, some: chunks > 0 });
    }
    if (url.pathname === '/tee') {
      const [a, b] = request.body.tee();
      const [ta, tb] = await Promise.all([new Response(a).text(), new Response(b).text()]);
      return Response.json({ same: ta === tb, length: ta.length });
    }
    if (url.pathname === '/iterate') {
      const parts = [];
      const stream = new ReadableStream({ start(c) { c.enqueue('x'); c.enqueue('y'); c.close(); } });
      for await (const p of stream) parts.push(p);
      return Response.json(parts);
    }
    return new Response('?', { status: 404 });
  },
};
