// clone(): reading a request or response twice.
export default {
  async fetch(request) {
    const copy = request.clone();
    const [a, b] = await Promise.all([request.text(), copy.text()]);
    const res = new Response('response body', { headers: { 'x-orig': '1' } });
    const rc = res.clone();
    const out = { a, b, sameReq: a === b, res: await res.text(), resClone: await rc.text(), cloneHeader: rc.headers.get('x-orig') };
    try { res.clone(); out.afterUse = 'cloned'; } catch (e) { out.afterUse = e.name; }
    const streamed = new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('streamed')); c.close(); } }));
    const sc = streamed.clone();
    out.streamed = [await streamed.text(), await sc.text()];
    return Response.json(out);
  },
};
