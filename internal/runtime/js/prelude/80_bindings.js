// Bindings: the objects env.NAME holds for KV namespaces, buckets and
// service bindings, with the Cloudflare Workers signatures, wrapped
// around Go handles (internal/runtime/js/bindings.go). The file is one
// function expression, compiled once and called in each runtime by
// bindings.go; it returns the factories. It uses only public globals
// (Request, Response, Headers, ReadableStream, Blob when present), so it
// does not depend on how the rest of the prelude is put together.
(function () {
'use strict';

const kBinding = Symbol('binding');
const kBodyHandle = Symbol('bodyHandle');
const kBodyStream = Symbol('bodyStream');
const kBodyConsumed = Symbol('bodyConsumed');

function hasStreams() {
  return typeof ReadableStream === 'function';
}

function needStreams(what) {
  if (!hasStreams()) {
    throw new TypeError(`${what} needs ReadableStream, which this wisp JavaScript runtime does not have yet`);
  }
}

function isStream(v) {
  return v !== null && typeof v === 'object' && typeof v.getReader === 'function';
}

// copyBuffer gives an ArrayBuffer holding exactly a view's bytes.
function copyBuffer(v) {
  if (v instanceof ArrayBuffer) return v;
  return v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength);
}

function chunkBuffer(chunk) {
  if (chunk instanceof ArrayBuffer || ArrayBuffer.isView(chunk)) return copyBuffer(chunk);
  throw new TypeError('a stream written to a binding must carry Uint8Array chunks');
}

// readAll reads a stream whole; past max bytes it stops and throws what
// tooLarge(bytesRead) makes.
async function readAll(stream, max, tooLarge) {
  const reader = stream.getReader();
  const parts = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const b = new Uint8Array(chunkBuffer(value));
    parts.push(b);
    n += b.byteLength;
    if (n > max) {
      if (typeof reader.cancel === 'function') reader.cancel();
      throw tooLarge(n);
    }
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.byteLength;
  }
  return out.buffer;
}

function streamOf(buffer) {
  needStreams('a "stream" value');
  return new ReadableStream({
    start(c) {
      if (buffer.byteLength > 0) c.enqueue(new Uint8Array(buffer));
      c.close();
    },
  });
}

// ---- KV namespaces: https://developers.cloudflare.com/kv/api/ ----

const kvTypes = ['text', 'arrayBuffer', 'json', 'stream'];

function kvError(op, status, msg) {
  return new Error(`KV ${op} failed: ${status} ${msg}`);
}

function kvType(options) {
  let type = 'text';
  if (typeof options === 'string') {
    type = options;
  } else if (options !== undefined && options !== null) {
    if (typeof options !== 'object') throw new TypeError('get() options must be a type string or an object');
    if (options.type !== undefined) type = options.type;
    if (options.cacheTtl !== undefined) {
      const ttl = Number(options.cacheTtl);
      if (!(ttl >= 30)) throw kvError('GET', 400, `Invalid cache_ttl of ${options.cacheTtl}. Cache TTL must be at least 30.`);
    }
  }
  if (!kvTypes.includes(type)) {
    throw new TypeError('Unknown response type. Possible types are "text", "arrayBuffer", "json", and "stream".');
  }
  return type;
}

function kvDecode(v, type) {
  if (v === null) return null;
  if (type === 'json') return JSON.parse(v);
  if (type === 'stream') return streamOf(v);
  return v;
}

function kvMetadata(m) {
  return m === null || m === undefined ? null : JSON.parse(m);
}

async function kvBulk(h, keys, options, withMetadata) {
  if (keys.length < 1) throw kvError('GET', 400, 'You must request a minimum of 1 key');
  if (keys.length > 100) throw kvError('GET', 400, 'You can request a maximum of 100 keys');
  const type = kvType(options);
  if (type !== 'text' && type !== 'json') throw kvError('GET', 400, `"${type}" is not a valid type. Use "json" or "text"`);
  const names = keys.map(String);
  const vals = await h.getMany(names, type, withMetadata);
  const out = new Map();
  names.forEach((k, i) => {
    const v = vals[i];
    if (v === null || !withMetadata) out.set(k, kvDecode(v, type));
    else out.set(k, { value: kvDecode(v.value, type), metadata: kvMetadata(v.metadata) });
  });
  return out;
}

async function kvValue(value) {
  if (typeof value === 'string') return value;
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return copyBuffer(value);
  if (isStream(value)) {
    const max = 25 * 1024 * 1024;
    return readAll(value, max, (n) => kvError('PUT', 413, `Value length of at least ${n} exceeds limit of ${max}.`));
  }
  throw new TypeError('KV put() accepts only strings, ArrayBuffers, ArrayBufferViews, and ReadableStreams as values.');
}

class KVNamespace {
  constructor(handle) {
    Object.defineProperty(this, kBinding, { value: handle });
  }

  // get is the hot path: a plain function chaining one promise costs far
  // less in goja than an async function's await.
  get(key, options) {
    try {
      if (Array.isArray(key)) return kvBulk(this[kBinding], key, options, false);
      const type = kvType(options);
      const p = this[kBinding].get(String(key), type, false);
      return type === 'text' || type === 'arrayBuffer' ? p : p.then((v) => kvDecode(v, type));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async getWithMetadata(key, options) {
    if (Array.isArray(key)) return kvBulk(this[kBinding], key, options, true);
    const type = kvType(options);
    const e = await this[kBinding].get(String(key), type, true);
    if (e === null) return { value: null, metadata: null, cacheStatus: null };
    return { value: kvDecode(e.value, type), metadata: kvMetadata(e.metadata), cacheStatus: null };
  }

  async put(key, value, options) {
    let expiration = 0;
    let ttl = 0;
    let metadata;
    if (options !== undefined && options !== null) {
      if (options.expiration !== undefined && options.expiration !== null) {
        expiration = Math.trunc(Number(options.expiration));
        if (!(expiration > 0)) {
          throw kvError('PUT', 400, `Invalid expiration of ${options.expiration}. Please specify integer greater than the current number of seconds since the UNIX epoch.`);
        }
      }
      if (options.expirationTtl !== undefined && options.expirationTtl !== null) {
        ttl = Math.trunc(Number(options.expirationTtl));
        if (!(ttl > 0)) throw kvError('PUT', 400, `Invalid expiration_ttl of ${options.expirationTtl}. Please specify integer greater than 0.`);
      }
      if (options.metadata !== undefined && options.metadata !== null) {
        metadata = JSON.stringify(options.metadata);
        if (metadata === undefined) throw new TypeError('KV put() metadata must be serializable to JSON');
      }
    }
    const v = await kvValue(value);
    await this[kBinding].put(String(key), v, expiration, ttl, metadata);
  }

  async delete(key) {
    await this[kBinding].delete(String(key));
  }

  async list(options) {
    let prefix = '';
    let limit = 0;
    let cursor = '';
    if (options !== undefined && options !== null) {
      if (options.prefix !== undefined && options.prefix !== null) prefix = String(options.prefix);
      if (options.cursor !== undefined && options.cursor !== null) cursor = String(options.cursor);
      if (options.limit !== undefined && options.limit !== null) {
        limit = Math.trunc(Number(options.limit));
        if (!(limit > 0)) throw kvError('LIST', 400, `Invalid key_count_limit of ${options.limit}. Please specify an integer greater than 0.`);
      }
    }
    const r = await this[kBinding].list(prefix, limit, cursor);
    const keys = r.keys.map((k) => {
      const o = { name: k.name };
      if (k.expiration !== undefined) o.expiration = k.expiration;
      if (k.metadata !== undefined) o.metadata = JSON.parse(k.metadata);
      return o;
    });
    const out = { keys, list_complete: r.complete, cacheStatus: null };
    if (!r.complete) out.cursor = r.cursor;
    return out;
  }
}

// ---- buckets (R2): https://developers.cloudflare.com/r2/api/workers/workers-api-reference/ ----

const httpFields = [
  ['contentType', 'content-type'],
  ['contentLanguage', 'content-language'],
  ['contentDisposition', 'content-disposition'],
  ['contentEncoding', 'content-encoding'],
  ['cacheControl', 'cache-control'],
];

function hexBuffer(hex) {
  const b = new Uint8Array(hex.length / 2);
  for (let i = 0; i < b.length; i++) b[i] = parseInt(hex.substr(2 * i, 2), 16);
  return b.buffer;
}

function bufferHex(buf) {
  const b = new Uint8Array(copyBuffer(buf));
  let s = '';
  for (const x of b) s += (x < 16 ? '0' : '') + x.toString(16);
  return s;
}

class R2Object {
  constructor(info, include) {
    this.key = info.key;
    this.version = info.version;
    this.size = info.size;
    this.etag = info.etag;
    this.httpEtag = `"${info.etag}"`;
    this.uploaded = new Date(info.uploaded);
    this.storageClass = 'Standard';
    const etag = info.etag;
    this.checksums = {
      md5: hexBuffer(etag),
      toJSON() { return { md5: etag }; },
    };
    if (include === undefined || include.includes('httpMetadata')) {
      const m = {};
      for (const [f] of httpFields) if (info.http[f] !== undefined) m[f] = info.http[f];
      if (info.http.cacheExpiry !== undefined) m.cacheExpiry = new Date(info.http.cacheExpiry);
      this.httpMetadata = m;
    }
    if (include === undefined || include.includes('customMetadata')) {
      this.customMetadata = Object.assign({}, info.custom);
    }
    if (info.range !== undefined) this.range = { offset: info.range.offset, length: info.range.length };
  }

  writeHttpMetadata(headers) {
    const m = this.httpMetadata || {};
    for (const [f, h] of httpFields) if (m[f] !== undefined) headers.set(h, m[f]);
    if (m.cacheExpiry !== undefined) headers.set('expires', m.cacheExpiry.toUTCString());
  }
}

class R2ObjectBody extends R2Object {
  constructor(info) {
    super(info);
    Object.defineProperty(this, kBodyHandle, { value: info.body });
    this[kBodyConsumed] = false;
  }

  get body() {
    if (this[kBodyStream] === undefined) {
      needStreams('R2ObjectBody.body');
      const h = this[kBodyHandle];
      this[kBodyConsumed] = true;
      this[kBodyStream] = new ReadableStream({
        async pull(c) {
          const b = await h.read();
          if (b === null) c.close();
          else c.enqueue(new Uint8Array(b));
        },
        cancel() { h.cancel(); },
      });
    }
    return this[kBodyStream];
  }

  get bodyUsed() {
    return this[kBodyConsumed];
  }

  async arrayBuffer() {
    if (this[kBodyConsumed]) throw new TypeError('Body has already been used. It can only be used once.');
    this[kBodyConsumed] = true;
    return this[kBodyHandle].readAll(false);
  }

  async bytes() {
    return new Uint8Array(await this.arrayBuffer());
  }

  async text() {
    if (this[kBodyConsumed]) throw new TypeError('Body has already been used. It can only be used once.');
    this[kBodyConsumed] = true;
    return this[kBodyHandle].readAll(true);
  }

  async json() {
    return JSON.parse(await this.text());
  }

  async blob() {
    if (typeof Blob !== 'function') throw new TypeError('R2ObjectBody.blob() needs Blob, which this wisp JavaScript runtime does not have yet');
    const type = this.httpMetadata && this.httpMetadata.contentType;
    return new Blob([await this.arrayBuffer()], type ? { type } : undefined);
  }
}

function r2Unsupported(op, what) {
  return new Error(`${op}: ${what} is not supported by wisp buckets yet`);
}

function httpMetadataOf(m) {
  const out = {};
  if (m === undefined || m === null) return out;
  if (typeof m.get === 'function' && typeof m.has === 'function') {
    for (const [f, h] of httpFields) if (m.has(h)) out[f] = m.get(h);
    if (m.has('expires')) {
      const t = Date.parse(m.get('expires'));
      if (!Number.isNaN(t)) out.cacheExpiry = t;
    }
    return out;
  }
  for (const [f] of httpFields) if (m[f] !== undefined && m[f] !== null) out[f] = String(m[f]);
  if (m.cacheExpiry !== undefined && m.cacheExpiry !== null) out.cacheExpiry = new Date(m.cacheExpiry).getTime();
  return out;
}

function putOptions(options) {
  const o = { http: {} };
  if (options === undefined || options === null) return o;
  if (options.onlyIf !== undefined) throw r2Unsupported('put', 'onlyIf');
  for (const alg of ['sha1', 'sha256', 'sha384', 'sha512']) {
    if (options[alg] !== undefined) throw r2Unsupported('put', `the ${alg} checksum`);
  }
  const http = httpMetadataOf(options.httpMetadata);
  if (http.contentType !== undefined) o.contentType = http.contentType;
  delete http.contentType;
  o.http = http;
  if (options.customMetadata !== undefined && options.customMetadata !== null) {
    o.customMetadata = {};
    for (const k of Object.keys(options.customMetadata)) o.customMetadata[k] = String(options.customMetadata[k]);
  }
  if (options.md5 !== undefined && options.md5 !== null) {
    o.md5 = typeof options.md5 === 'string' ? options.md5.toLowerCase() : bufferHex(options.md5);
  }
  return o;
}

function getOptions(options) {
  const o = {};
  if (options === undefined || options === null) return o;
  if (options.onlyIf !== undefined) throw r2Unsupported('get', 'onlyIf');
  let r = options.range;
  if (r !== undefined && r !== null && typeof r.get === 'function') {
    const m = /^bytes=(\d*)-(\d*)$/.exec(r.get('range') || '');
    if (!m) throw new Error('get: The requested range is not satisfiable (10039)');
    r = m[1] === '' ? { suffix: Number(m[2]) } : m[2] === '' ? { offset: Number(m[1]) } : { offset: Number(m[1]), length: Number(m[2]) - Number(m[1]) + 1 };
  }
  if (r !== undefined && r !== null) {
    if (r.suffix !== undefined) {
      o.suffix = Math.trunc(Number(r.suffix));
      if (!(o.suffix > 0)) throw new Error('get: The requested range is not satisfiable (10039)');
    } else {
      if (r.offset !== undefined) o.offset = Math.trunc(Number(r.offset));
      if (r.length !== undefined) {
        o.length = Math.trunc(Number(r.length));
        if (!(o.length > 0)) throw new Error('get: The requested range is not satisfiable (10039)');
      }
    }
  }
  return o;
}

class R2Bucket {
  constructor(handle) {
    Object.defineProperty(this, kBinding, { value: handle });
  }

  async head(key) {
    const i = await this[kBinding].head(String(key));
    return i === null ? null : new R2Object(i);
  }

  async get(key, options) {
    const i = await this[kBinding].get(String(key), JSON.stringify(getOptions(options)));
    return i === null ? null : new R2ObjectBody(i);
  }

  async put(key, value, options) {
    const o = JSON.stringify(putOptions(options));
    const h = this[kBinding];
    key = String(key);
    if (isStream(value)) {
      const w = await h.putStream(key, o);
      const reader = value.getReader();
      try {
        for (;;) {
          const { done, value: chunk } = await reader.read();
          if (done) break;
          await w.write(chunkBuffer(chunk));
        }
      } catch (e) {
        w.abort(String(e));
        throw e;
      }
      return new R2Object(await w.close());
    }
    let body;
    if (value === null || value === undefined) body = null;
    else if (typeof value === 'string') body = value;
    else if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) body = copyBuffer(value);
    else if (typeof value.arrayBuffer === 'function') body = await value.arrayBuffer();
    else throw new TypeError('put: the value must be a ReadableStream, ArrayBuffer, ArrayBufferView, string, Blob or null');
    return new R2Object(await h.put(key, body, o));
  }

  async delete(keys) {
    const list = Array.isArray(keys) ? keys.map(String) : [String(keys)];
    await this[kBinding].delete(list);
  }

  async list(options) {
    const o = {};
    let include = [];
    if (options !== undefined && options !== null) {
      for (const f of ['prefix', 'cursor', 'delimiter', 'startAfter']) {
        if (options[f] !== undefined && options[f] !== null) o[f] = String(options[f]);
      }
      if (options.limit !== undefined && options.limit !== null) {
        o.limit = Math.trunc(Number(options.limit));
        if (!(o.limit >= 1 && o.limit <= 1000)) throw new Error('list: MaxKeys params must be positive integer <= 1000. (10022)');
      }
      if (options.include !== undefined) include = Array.from(options.include, String);
    }
    const r = await this[kBinding].list(JSON.stringify(o));
    const out = {
      objects: r.objects.map((i) => new R2Object(i, include)),
      truncated: r.truncated,
      delimitedPrefixes: Array.from(r.delimitedPrefixes),
    };
    if (r.truncated) out.cursor = r.cursor;
    return out;
  }

  createMultipartUpload() {
    return Promise.reject(r2Unsupported('createMultipartUpload', 'multipart upload'));
  }

  resumeMultipartUpload() {
    throw r2Unsupported('resumeMultipartUpload', 'multipart upload');
  }
}

// ---- service bindings: https://developers.cloudflare.com/workers/runtime-apis/bindings/service-bindings/ ----

const nullBodyStatuses = [101, 204, 205, 304];

class Fetcher {
  constructor(handle) {
    Object.defineProperty(this, kBinding, { value: handle });
  }

  async fetch(input, init) {
    const req = new Request(input, init);
    const flat = [];
    req.headers.forEach((v, k) => { flat.push(k, v); });
    let body = null;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const b = await req.arrayBuffer();
      if (b.byteLength > 0) body = b;
    }
    const r = await this[kBinding].fetch(req.method, req.url, flat, body);
    const headers = new Headers();
    for (let i = 0; i + 1 < r.headers.length; i += 2) headers.append(r.headers[i], r.headers[i + 1]);
    const noBody = nullBodyStatuses.includes(r.status) || req.method === 'HEAD';
    return new Response(noBody ? null : r.body, { status: r.status, headers });
  }

  connect() {
    throw new Error('connect() is not supported by wisp service bindings');
  }
}

return Object.freeze({
  kv(name, handle) { return new KVNamespace(handle); },
  bucket(name, handle) { return new R2Bucket(handle); },
  service(name, handle) { return new Fetcher(handle); },
});
});
