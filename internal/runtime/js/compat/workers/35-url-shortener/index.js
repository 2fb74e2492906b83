// A URL shortener kept in memory: create, redirect, stats.
const links = new Map();
let next = 1000;

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (request.method === 'POST' && url.pathname === '/links') {
      const { target } = await request.json();
      let parsed;
      try { parsed = new URL(target); } catch { return Response.json({ error: 'invalid target' }, { status: 422 }); }
      if (!['http:', 'https:'].includes(parsed.protocol)) return Response.json({ error: 'unsupported scheme' }, { status: 422 });
      const id = (next++).toString(36);
      links.set(id, { target: parsed.href, hits: 0 });
      return Response.json({ id, short: new URL('/' + id, url).href }, { status: 201, headers: { location: '/' + id } });
    }
    const id = url.pathname.slice(1);
    const link = links.get(id);
    if (url.searchParams.has('stats')) return link ? Response.json(link) : new Response('unknown', { status: 404 });
    if (!link) return new Response('unknown link', { status: 404 });
    link.hits++;
    return Response.redirect(link.target, 302);
  },
};
