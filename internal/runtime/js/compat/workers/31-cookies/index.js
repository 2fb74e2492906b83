// Cookies: parsing the Cookie header, setting several with attributes.
function parseCookies(header) {
  const out = {};
  for (const part of (header || '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

export default {
  fetch(request) {
    const cookies = parseCookies(request.headers.get('cookie'));
    const visits = Number(cookies.visits || 0) + 1;
    const headers = new Headers({ 'content-type': 'text/plain' });
    headers.append('set-cookie', `visits=${visits}; Path=/; Max-Age=3600; SameSite=Lax`);
    headers.append('set-cookie', `last=${encodeURIComponent('a b;c')}; Path=/; HttpOnly; Secure`);
    if (cookies.session) headers.append('set-cookie', 'session=; Path=/; Max-Age=0');
    return new Response(`visits=${visits} user=${cookies.user ?? 'anonymous'} cookies=${Object.keys(cookies).join(',')}`, { headers });
  },
};
