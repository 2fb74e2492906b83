// Request: https://fetch.spec.whatwg.org/#request-class
const forbiddenMethods = ['CONNECT', 'TRACE', 'TRACK'];
const normalizedMethods = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT', 'PATCH'];

function normalizeMethod(m) {
  m = webidlString(m);
  if (!tokenRe.test(m)) throw new TypeError(`Invalid HTTP method: "${m}"`);
  const up = m.toUpperCase();
  if (forbiddenMethods.includes(up)) throw new TypeError(`Forbidden HTTP method: "${m}"`);
  return normalizedMethods.includes(up) ? up : m;
}

class Request {
  constructor(input, init) {
    init = init === undefined || init === null ? {} : init;
    let src = null;
    if (input instanceof Request) {
      src = input;
      this[kURL] = input[kURL];
      this[kMethod] = input[kMethod];
      this[kRedirect] = input[kRedirect];
    } else {
      const u = host.urlParse(webidlString(input), undefined);
      if (u === null) throw new TypeError('Invalid URL: ' + webidlString(input));
      this[kURL] = u.Href();
      this[kMethod] = 'GET';
      this[kRedirect] = 'follow';
    }
    if (init.method !== undefined) this[kMethod] = normalizeMethod(init.method);
    if (init.redirect !== undefined) {
      const r = webidlString(init.redirect);
      if (!['follow', 'error', 'manual'].includes(r)) throw new TypeError(`Invalid redirect value: "${r}"`);
      this[kRedirect] = r;
    }
    this[kSignal] = init.signal !== undefined ? init.signal : src ? src[kSignal] : null;
    this.cf = init.cf !== undefined ? init.cf : src ? src.cf : undefined;
    this[kHeaderSrc] = null;
    this[kHeaders] = new Headers(init.headers !== undefined ? init.headers : src ? src.headers : undefined);
    this[kBodyUsed] = false;
    let body = null;
    let ctype = null;
    if (init.body !== undefined && init.body !== null) {
      [body, ctype] = extractBody(init.body);
    } else if (src !== null) {
      body = consume(src);
    }
    if (body !== null && (this[kMethod] === 'GET' || this[kMethod] === 'HEAD')) {
      throw new TypeError('Request with a GET or HEAD method cannot have a body.');
    }
    if (ctype !== null && !this[kHeaders].has('content-type')) this[kHeaders].append('content-type', ctype);
    this[kBody] = body;
  }
  get method() { return this[kMethod]; }
  get url() { return this[kURL]; }
  get headers() {
    if (this[kHeaders] === null) this[kHeaders] = headersFromHost(this[kHeaderSrc], 'none');
    return this[kHeaders];
  }
  get redirect() { return this[kRedirect]; }
  get signal() { return this[kSignal]; }
  get body() {
    if (this[kBody] === null) return null;
    throw new TypeError('Request.body streams are not supported by wisp yet; use text(), json() or arrayBuffer()');
  }
  clone() {
    if (this[kBodyUsed]) throw new TypeError('This Request has already been used.');
    const r = Object.create(Request.prototype);
    r[kURL] = this[kURL];
    r[kMethod] = this[kMethod];
    r[kRedirect] = this[kRedirect];
    r[kSignal] = this[kSignal];
    r.cf = this.cf;
    r[kHeaderSrc] = null;
    r[kHeaders] = new Headers(this.headers);
    r[kBody] = this[kBody];
    r[kBodyUsed] = false;
    return r;
  }
  get [Symbol.toStringTag]() { return 'Request'; }
}
mixinBody(Request);

// makeIncoming builds the Request a worker receives without re-validating
// what the gateway already parsed; headers are materialized on first use.
function makeIncoming(method, url, flatHeaders, body) {
  const r = Object.create(Request.prototype);
  r[kMethod] = method;
  r[kURL] = url;
  r[kRedirect] = 'manual';
  r[kSignal] = null;
  r.cf = undefined;
  r[kHeaderSrc] = flatHeaders;
  r[kHeaders] = null;
  r[kBody] = body === null ? null : new Uint8Array(body);
  r[kBodyUsed] = false;
  return r;
}

defineGlobal('Request', Request);
