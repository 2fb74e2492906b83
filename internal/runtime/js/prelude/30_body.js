// The Body mixin shared by Request and Response:
// https://fetch.spec.whatwg.org/#body-mixin. kBody holds null, a string or
// a Uint8Array; kCType the content type the body implies.
function extractBody(init) {
  if (init === null || init === undefined) return [null, null];
  if (typeof init === 'string') return [init, 'text/plain;charset=UTF-8'];
  if (init instanceof URLSearchParams) return [init.toString(), 'application/x-www-form-urlencoded;charset=UTF-8'];
  if (isBufferSource(init)) return [toBytes(init), null];
  if (typeof init === 'object' && typeof init.getReader === 'function') {
    throw new TypeError('ReadableStream bodies are not supported by wisp yet');
  }
  return [webidlString(init), 'text/plain;charset=UTF-8'];
}

function consume(self) {
  if (self[kBodyUsed]) throw new TypeError('Body has already been used. It can only be used once. Use tee() first if you need to read it twice.');
  const b = self[kBody];
  if (b !== null) self[kBodyUsed] = true;
  return b;
}

function bodyText(b) {
  if (b === null) return '';
  if (typeof b === 'string') return b;
  return host.utf8Decode(b);
}

function bodyBytes(b) {
  if (b === null) return new Uint8Array(0);
  if (typeof b === 'string') return new Uint8Array(host.utf8Encode(b));
  return b.slice();
}

const BodyMixin = {
  text() {
    try { return Promise.resolve(bodyText(consume(this))); } catch (e) { return Promise.reject(e); }
  },
  json() {
    try { return Promise.resolve(JSON.parse(bodyText(consume(this)))); } catch (e) { return Promise.reject(e); }
  },
  arrayBuffer() {
    try { return Promise.resolve(bodyBytes(consume(this)).buffer); } catch (e) { return Promise.reject(e); }
  },
  bytes() {
    try { return Promise.resolve(bodyBytes(consume(this))); } catch (e) { return Promise.reject(e); }
  },
};

function mixinBody(cls) {
  for (const name of Object.keys(BodyMixin)) {
    Object.defineProperty(cls.prototype, name, { value: BodyMixin[name], writable: true, configurable: true });
  }
  Object.defineProperty(cls.prototype, 'bodyUsed', { get() { return this[kBodyUsed]; }, configurable: true });
}
