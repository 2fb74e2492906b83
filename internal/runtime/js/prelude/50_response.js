// Response: https://fetch.spec.whatwg.org/#response-class
const nullBodyStatus = [101, 204, 205, 304];
const redirectStatus = [301, 302, 303, 307, 308];

class Response {
  constructor(body, init) {
    init = init === undefined || init === null ? {} : init;
    const status = init.status === undefined ? 200 : Number(init.status);
    if (!Number.isInteger(status) || status < 200 || status > 599) {
      throw new RangeError(`Responses may only be constructed with status codes in the range 200 to 599, inclusive. (status ${init.status})`);
    }
    this[kStatus] = status;
    this[kStatusText] = init.statusText === undefined ? '' : webidlString(init.statusText);
    this[kType] = 'default';
    this[kHeaders] = init.headers === undefined ? null : new Headers(init.headers);
    this[kBodyUsed] = false;
    const [b, ctype] = extractBody(body);
    if (b !== null && nullBodyStatus.includes(status)) {
      throw new TypeError(`Response with null body status (${status}) cannot have a body.`);
    }
    this[kBody] = b;
    this[kCType] = ctype;
    if (ctype !== null && this[kHeaders] !== null && !this[kHeaders].has('content-type')) {
      this[kHeaders].append('content-type', ctype);
    }
  }
  static json(data, init) {
    const body = JSON.stringify(data);
    if (body === undefined) throw new TypeError('Value is not JSON serializable');
    const r = new Response(body, init);
    const h = r.headers;
    if (init === undefined || init === null || init.headers === undefined || !new Headers(init.headers).has('content-type')) {
      h.set('content-type', 'application/json');
    }
    return r;
  }
  static redirect(url, status) {
    status = status === undefined ? 302 : Number(status);
    if (!redirectStatus.includes(status)) throw new RangeError(`Invalid redirect status: ${status}`);
    const u = host.urlParse(webidlString(url), undefined);
    if (u === null) throw new TypeError('Invalid URL: ' + webidlString(url));
    const r = new Response(null, { status, headers: { location: u.Href() } });
    r[kHeaders][kGuard] = 'immutable';
    return r;
  }
  static error() {
    const r = Object.create(Response.prototype);
    r[kStatus] = 0;
    r[kStatusText] = '';
    r[kType] = 'error';
    r[kHeaders] = new Headers();
    r[kHeaders][kGuard] = 'immutable';
    r[kBody] = null;
    r[kCType] = null;
    r[kBodyUsed] = false;
    return r;
  }
  get status() { return this[kStatus]; }
  get statusText() { return this[kStatusText]; }
  get ok() { return this[kStatus] >= 200 && this[kStatus] <= 299; }
  get type() { return this[kType]; }
  get url() { return ''; }
  get redirected() { return false; }
  get webSocket() { return null; }
  get headers() {
    if (this[kHeaders] === null) {
      this[kHeaders] = new Headers();
      if (this[kCType] !== null) this[kHeaders].append('content-type', this[kCType]);
    }
    return this[kHeaders];
  }
  get body() {
    if (this[kBody] === null) return null;
    throw new TypeError('Response.body streams are not supported by wisp yet; use text(), json() or arrayBuffer()');
  }
  clone() {
    if (this[kBodyUsed]) throw new TypeError('This Response has already been used.');
    const r = Object.create(Response.prototype);
    r[kStatus] = this[kStatus];
    r[kStatusText] = this[kStatusText];
    r[kType] = this[kType];
    r[kHeaders] = this[kHeaders] === null ? null : new Headers(this[kHeaders]);
    r[kBody] = this[kBody];
    r[kCType] = this[kCType];
    r[kBodyUsed] = false;
    return r;
  }
  get [Symbol.toStringTag]() { return 'Response'; }
}
mixinBody(Response);

// responseParts hands Go what it writes: status, flat header list, body.
function responseParts(r) {
  if (!(r instanceof Response)) return null;
  let flat;
  if (r[kHeaders] === null) {
    flat = r[kCType] === null ? [] : ['content-type', r[kCType]];
  } else {
    flat = [];
    for (const [n, v] of r[kHeaders][kList]) flat.push(n, v);
  }
  return [r[kStatus], flat, r[kBody]];
}

defineGlobal('Response', Response);
