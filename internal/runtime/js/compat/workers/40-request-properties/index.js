// What a worker sees of the incoming request.
export default {
  async fetch(request) {
    const url = new URL(request.url);
    return Response.json({
      method: request.method,
      url: request.url,
      host: url.host,
      redirect: request.redirect,
      hasSignal: request.signal instanceof AbortSignal,
      aborted: request.signal.aborted,
      keys: Object.keys(request),
      tag: Object.prototype.toString.call(request),
      isRequest: request instanceof Request,
      headerNames: [...request.headers.keys()].filter((k) => k.startsWith('x-')),
      body: request.body === null ? null : 'stream',
    });
  },
};
