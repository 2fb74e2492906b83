// The conformance guest for JavaScript. The suite drives every runtime's
// guest the same way: POST /rpc with {"op": ..., ...} runs one binding
// operation and answers {"result": ...} or {"error": {"name", "message"}}.
// Any other request is echoed back, so that service bindings have
// something to call.

function hex(buf) {
  let s = '';
  for (const b of new Uint8Array(buf)) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
}

function unhex(s) {
  const b = new Uint8Array(s.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(s.substr(2 * i, 2), 16);
  return b;
}

// TextEncoderLike encodes ASCII text as bytes (the runtime may not have
// TextEncoder yet).
function TextEncoderLike(s) {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

function value(m) {
  if (m.hex !== undefined) return unhex(m.hex);
  if (m.json !== undefined) return JSON.stringify(m.json);
  return m.text;
}

async function readStream(stream) {
  const reader = stream.getReader();
  const parts = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(hex(value));
  }
  return parts.join('');
}

async function kvOut(v, m) {
  const type = typeof m.options === 'string' ? m.options : m.options && m.options.type;
  if (v === null || v === undefined) return v === undefined ? null : v;
  if (type === 'arrayBuffer') return { hex: hex(v) };
  if (type === 'stream') return { hex: await readStream(v) };
  if (v instanceof Map) return Object.fromEntries(v);
  return v;
}

function summary(o) {
  if (o === null) return null;
  const s = {
    key: o.key, size: o.size, etag: o.etag, httpEtag: o.httpEtag, version: o.version,
    uploaded: o.uploaded.getTime(), httpMetadata: o.httpMetadata, customMetadata: o.customMetadata,
    md5: hex(o.checksums.md5),
  };
  if (s.httpMetadata && s.httpMetadata.cacheExpiry) s.httpMetadata = Object.assign({}, s.httpMetadata, { cacheExpiry: s.httpMetadata.cacheExpiry.getTime() });
  if (o.range) s.range = o.range;
  const h = new Headers();
  o.writeHttpMetadata(h);
  s.written = Object.fromEntries(h);
  return s;
}

// fill makes chunk k of a generated object (64 KiB chunks): every byte is
// (k * 7 + 1) & 255. The Go side computes the same.
function fill(buf, offset) {
  buf.fill(((offset / 65536) * 7 + 1) & 255);
}

const ops = {
  'env.keys': (env) => Object.keys(env).sort(),
  'env.types': (env) => Object.fromEntries(Object.keys(env).map((k) => [k, typeof env[k] === 'object' ? env[k].constructor.name : typeof env[k]])),
  'env.equals': (env, m) => env[m.name] === m.value,
  'env.length': (env, m) => (typeof env[m.name] === 'string' ? env[m.name].length : null),

  'kv.get': async (env, m) => kvOut(await env[m.binding].get(m.key, m.options), m),
  'kv.getWithMetadata': async (env, m) => {
    const r = await env[m.binding].getWithMetadata(m.key, m.options);
    if (r instanceof Map) return Object.fromEntries(r);
    return { value: await kvOut(r.value, m), metadata: r.metadata, cacheStatus: r.cacheStatus };
  },
  'kv.put': async (env, m) => { await env[m.binding].put(m.key, value(m), m.options); return true; },
  'kv.delete': async (env, m) => { await env[m.binding].delete(m.key); return true; },
  // putStream writes m.chunks (text), then m.extraMiB MiB of zeros, as a
  // stream (a ReadableStream when the runtime has one).
  'kv.putStream': async (env, m) => {
    const parts = m.chunks.map((c) => new TextEncoderLike(c));
    for (let i = 0; i < (m.extraMiB || 0); i++) parts.push(new Uint8Array(1 << 20));
    let i = 0;
    const next = () => (i < parts.length ? parts[i++] : null);
    const stream = typeof ReadableStream === 'function'
      ? new ReadableStream({ pull(c) { const b = next(); if (b === null) c.close(); else c.enqueue(b); } })
      : { getReader() { return { read: async () => { const b = next(); return b === null ? { done: true } : { done: false, value: b }; } }; } };
    await env[m.binding].put(m.key, stream);
    return true;
  },
  'kv.list': async (env, m) => env[m.binding].list(m.options),
  'kv.fill': async (env, m) => {
    const ns = env[m.binding];
    for (let i = 0; i < m.count; i += 100) {
      const batch = [];
      for (let j = i; j < Math.min(i + 100, m.count); j++) batch.push(ns.put(m.prefix + String(j).padStart(6, '0'), 'v' + j, { metadata: { n: j } }));
      await Promise.all(batch);
    }
    return m.count;
  },
  'kv.listAll': async (env, m) => {
    const names = [];
    let cursor;
    let pages = 0;
    let metadataOK = true;
    for (;;) {
      const r = await env[m.binding].list({ prefix: m.prefix, limit: m.limit, cursor });
      pages++;
      for (const k of r.keys) {
        if (!k.metadata || k.name !== m.prefix + String(k.metadata.n).padStart(6, '0')) metadataOK = false;
        names.push(k.name);
      }
      if (r.list_complete) break;
      cursor = r.cursor;
    }
    return { count: names.length, pages, first: names[0], last: names[names.length - 1], sorted: names.every((n, i) => i === 0 || names[i - 1] < n), metadataOK };
  },

  'obj.put': async (env, m) => summary(await env[m.binding].put(m.key, m.null ? null : value(m), m.options)),
  'obj.get': async (env, m) => {
    const o = await env[m.binding].get(m.key, m.options);
    if (o === null) return null;
    const s = summary(o);
    if (m.as === 'stream') s.body = { hex: await readStream(o.body) };
    else if (m.as === 'hex') s.body = { hex: hex(await o.arrayBuffer()) };
    else s.body = await o.text();
    return s;
  },
  'obj.head': async (env, m) => summary(await env[m.binding].head(m.key)),
  'obj.delete': async (env, m) => { await env[m.binding].delete(m.keys); return true; },
  'obj.list': async (env, m) => {
    const r = await env[m.binding].list(m.options);
    return { objects: r.objects.map(summary), truncated: r.truncated, cursor: r.cursor, delimitedPrefixes: r.delimitedPrefixes };
  },
  // putGenerated streams m.size generated bytes into the bucket: through
  // a ReadableStream when the runtime has one, else through a reader of
  // the same shape, which R2Bucket.put streams just the same.
  'obj.putGenerated': async (env, m) => {
    let offset = 0;
    const next = () => {
      if (offset >= m.size) return null;
      const n = Math.min(64 * 1024, m.size - offset);
      const b = new Uint8Array(n);
      fill(b, offset);
      offset += n;
      return b;
    };
    let stream;
    if (typeof ReadableStream === 'function') {
      stream = new ReadableStream({ pull(c) { const b = next(); if (b === null) c.close(); else c.enqueue(b); } });
    } else {
      stream = { getReader() { return { read: async () => { const b = next(); return b === null ? { done: true } : { done: false, value: b }; } }; } };
    }
    return summary(await env[m.binding].put(m.key, stream));
  },
  // readCount reads an object through its body stream, or, without
  // ReadableStream, in 1 MiB ranges; either way never whole.
  'obj.readCount': async (env, m) => {
    let n = 0;
    let sample = 0;
    const take = (value) => {
      for (let i = (4096 - (n % 4096)) % 4096; i < value.length; i += 4096) sample = (sample + value[i]) % 1000003;
      n += value.length;
    };
    if (typeof ReadableStream === 'function') {
      const reader = (await env[m.binding].get(m.key)).body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        take(value);
      }
      return { bytes: n, sample, via: 'stream' };
    }
    const size = (await env[m.binding].head(m.key)).size;
    for (let off = 0; off < size; off += 1 << 20) {
      const o = await env[m.binding].get(m.key, { range: { offset: off, length: 1 << 20 } });
      take(new Uint8Array(await o.arrayBuffer()));
    }
    return { bytes: n, sample, via: 'ranges' };
  },

  'svc.fetch': async (env, m) => {
    const init = { method: m.method || 'GET', headers: m.headers || {} };
    if (m.body !== undefined) init.body = typeof m.body === 'string' ? m.body : JSON.stringify(m.body);
    const r = await env[m.binding].fetch(m.url, init);
    const text = await r.text();
    let body = text;
    try { body = JSON.parse(text); } catch (e) { /* not JSON */ }
    return { status: r.status, headers: Object.fromEntries(r.headers), body };
  },

  'fetch': async (env, m) => {
    if (typeof fetch !== 'function') throw new Error('fetch missing');
    const r = await fetch(m.url, m.init);
    return { status: r.status, body: await r.text() };
  },
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== '/rpc') {
      return Response.json({ method: request.method, url: request.url, host: request.headers.get('host'), test: request.headers.get('x-test'), body: await request.text() },
        { status: 201, headers: { 'x-guest': 'js' } });
    }
    const m = await request.json();
    const op = ops[m.op];
    if (!op) return Response.json({ error: { name: 'Error', message: `unknown op ${m.op}` } });
    try {
      const result = await op(env, m);
      return Response.json({ result: result === undefined ? null : result });
    } catch (e) {
      return Response.json({ error: { name: e && e.name, message: String(e && e.message !== undefined ? e.message : e) } });
    }
  },
};
