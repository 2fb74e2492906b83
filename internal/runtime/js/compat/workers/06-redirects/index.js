// Redirects: canonical host, trailing slashes, legacy paths and bad statuses.
const legacy = { '/old-blog': '/blog', '/docs/v1': '/docs' };

export default {
  fetch(request) {
    const url = new URL(request.url);
    if (legacy[url.pathname]) return Response.redirect(new URL(legacy[url.pathname], url).href, 301);
    if (url.pathname.endsWith('/') && url.pathname !== '/') {
      url.pathname = url.pathname.slice(0, -1);
      return Response.redirect(url.toString(), 308);
    }
    if (url.pathname === '/temp') return Response.redirect('https://elsewhere.example/landing?from=temp');
    if (url.pathname === '/see-other') return Response.redirect(new URL('/done', request.url), 303);
    if (url.pathname === '/bad-status') {
      try { return Response.redirect('https://x.example/', 200); } catch (e) { return new Response(`${e.name}: ${e.message}`, { status: 400 }); }
    }
    if (url.pathname === '/relative') {
      try { return Response.redirect('/nope'); } catch (e) { return new Response(e.name, { status: 400 }); }
    }
    if (url.pathname === '/immutable') {
      const r = Response.redirect('https://x.example/', 307);
      try { r.headers.set('x-extra', '1'); } catch (e) { return new Response(`${e.name}: ${e.message}`); }
      return r;
    }
    return new Response('page ' + url.pathname);
  },
};
