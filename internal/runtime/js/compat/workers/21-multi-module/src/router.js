export function route(entries) {
  return async (request) => {
    const url = new URL(request.url);
    for (const [method, path, handler] of entries) {
      if (method === request.method && path === url.pathname) return handler(request, url);
    }
    return new Response('no route', { status: 404 });
  };
}
