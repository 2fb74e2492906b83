// HMAC: webhook signature checks and HS256 JWTs.
const enc = new TextEncoder();
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const hex = (buf) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
const fromHex = (s) => new Uint8Array(s.match(/../g).map((h) => parseInt(h, 16)));

async function key(secret, usages) {
  return crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, usages);
}

async function jwt(payload, secret) {
  const head = b64url(enc.encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
  const body = b64url(enc.encode(JSON.stringify(payload)));
  const sig = await crypto.subtle.sign('HMAC', await key(secret, ['sign']), enc.encode(head + '.' + body));
  return head + '.' + body + '.' + b64url(sig);
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === '/webhook') {
      const body = await request.text();
      const given = request.headers.get('x-signature') || '';
      const k = await key(env.WEBHOOK_SECRET, ['verify']);
      let valid = false;
      try { valid = await crypto.subtle.verify('HMAC', k, fromHex(given), enc.encode(body)); } catch (e) { valid = 'error ' + e.name; }
      return Response.json({ valid, k: { type: k.type, extractable: k.extractable, usages: k.usages, algorithm: k.algorithm } }, { status: valid === true ? 200 : 401 });
    }
    if (url.pathname === '/sign') {
      const sig = await crypto.subtle.sign('HMAC', await key(env.WEBHOOK_SECRET, ['sign']), enc.encode(url.searchParams.get('m') || ''));
      return new Response(hex(sig));
    }
    if (url.pathname === '/jwt') {
      return new Response(await jwt({ sub: 'user-1', admin: true, iat: 1700000000 }, env.WEBHOOK_SECRET));
    }
    if (url.pathname === '/misuse') {
      const k = await key('x', ['verify']);
      const errs = [];
      try { await crypto.subtle.sign('HMAC', k, enc.encode('a')); } catch (e) { errs.push(e.name); }
      try { await crypto.subtle.exportKey('raw', k); } catch (e) { errs.push(e.name); }
      const g = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-512' }, true, ['sign']);
      errs.push((await crypto.subtle.exportKey('raw', g)).byteLength, g.algorithm.length, g.algorithm.hash.name);
      const jwk = await crypto.subtle.exportKey('jwk', await crypto.subtle.importKey('raw', enc.encode('k'), { name: 'HMAC', hash: 'SHA-1' }, true, ['sign']));
      errs.push(jwk.kty, jwk.k, jwk.alg);
      return Response.json(errs);
    }
    return new Response('not found', { status: 404 });
  },
};
