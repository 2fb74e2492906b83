// Headers: case-insensitivity, combining, iteration order, set-cookie.
export default {
  fetch(request) {
    const h = new Headers({ 'X-B': '2', 'x-a': '1' });
    h.append('X-A', 'one more');
    h.append('Set-Cookie', 'a=1; Path=/');
    h.append('set-cookie', 'b=2; HttpOnly');
    h.set('x-c', '  padded  ');
    const out = {
      get: h.get('x-a'),
      has: h.has('X-B'),
      entries: [...h],
      keys: [...h.keys()],
      cookies: h.getSetCookie(),
      viaForEach: [],
      req: {
        ua: request.headers.get('user-agent'),
        custom: request.headers.get('X-Custom'),
        multi: request.headers.get('x-multi'),
        has: request.headers.has('x-custom'),
      },
    };
    h.forEach((v, k) => out.viaForEach.push(k + '=' + v));
    h.delete('x-b');
    out.afterDelete = [...h.keys()];
    const errors = [];
    for (const [name, value] of [['bad name', 'x'], ['ok', 'bad\nvalue'], ['', 'x']]) {
      try { new Headers([[name, value]]); errors.push('none'); } catch (e) { errors.push(`${e.name}: ${e.message}`); }
    }
    try { request.headers.set('x', 'y'); errors.push('none'); } catch (e) { errors.push(`${e.name}: ${e.message}`); }
    out.errors = errors;
    const res = Response.json(out);
    res.headers.append('set-cookie', 'session=abc; Secure');
    res.headers.append('set-cookie', 'theme=dark');
    res.headers.set('X-Response', 'yes');
    return res;
  },
};
