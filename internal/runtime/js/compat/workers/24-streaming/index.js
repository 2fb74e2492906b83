// Streamed responses: server-sent events produced over time.
export default {
  fetch(request) {
    const url = new URL(request.url);
    const n = Number(url.searchParams.get('n') || 3);
    const enc = new TextEncoder();
    if (url.pathname === '/sse') {
      let i = 0;
      const stream = new ReadableStream({
        async pull(controller) {
          if (i >= n) { controller.enqueue(enc.encode('event: done\ndata: bye\n\n')); controller.close(); return; }
          await new Promise((r) => setTimeout(r, 5));
          controller.enqueue(enc.encode(`id: ${i}\ndata: {"tick":${i}}\n\n`));
          i++;
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
    }
    if (url.pathname === '/start') {
      const stream = new ReadableStream({
        start(controller) {
          for (let k = 0; k < n; k++) controller.enqueue(enc.encode(`line ${k}\n`));
          controller.close();
        },
      });
      return new Response(stream, { headers: { 'content-type': 'text/plain' } });
    }
    if (url.pathname === '/writer') {
      const { readable, writable } = new TransformStream();
      const writer = writable.getWriter();
      (async () => {
        for (let k = 0; k < n; k++) { await writer.write(enc.encode(`chunk ${k};`)); await new Promise((r) => setTimeout(r, 2)); }
        await writer.close();
      })();
      return new Response(readable);
    }
    if (url.pathname === '/from') {
      return new Response(ReadableStream.from(['a', 'b', 'c'].map((s) => enc.encode(s))));
    }
    return new Response('?', { status: 404 });
  },
};
