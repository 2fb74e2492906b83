// URL and URLSearchParams: https://url.spec.whatwg.org/. Parsing and
// serialization are done in Go by a WHATWG-conformant parser.
class URLSearchParams {
  constructor(init) {
    this[kList] = [];
    this[kURLObj] = null;
    if (init === undefined || init === null) return;
    if (init instanceof URLSearchParams) {
      this[kList] = init[kList].map((p) => [p[0], p[1]]);
    } else if (typeof init === 'object' && typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const p = Array.from(pair);
        if (p.length !== 2) throw new TypeError("Failed to construct 'URLSearchParams': Sequence initializer must only contain pair elements");
        this[kList].push([webidlString(p[0]), webidlString(p[1])]);
      }
    } else if (typeof init === 'object') {
      for (const k of Object.keys(init)) this[kList].push([k, webidlString(init[k])]);
    } else {
      let s = webidlString(init);
      if (s.startsWith('?')) s = s.slice(1);
      this[kList] = pairsFromFlat(host.formParse(s));
    }
  }
  get size() { return this[kList].length; }
  append(name, value) { this[kList].push([webidlString(name), webidlString(value)]); update(this); }
  delete(name, value) {
    name = webidlString(name);
    if (value === undefined) this[kList] = this[kList].filter((p) => p[0] !== name);
    else { value = webidlString(value); this[kList] = this[kList].filter((p) => !(p[0] === name && p[1] === value)); }
    update(this);
  }
  get(name) { name = webidlString(name); const p = this[kList].find((p) => p[0] === name); return p ? p[1] : null; }
  getAll(name) { name = webidlString(name); return this[kList].filter((p) => p[0] === name).map((p) => p[1]); }
  has(name, value) {
    name = webidlString(name);
    if (value === undefined) return this[kList].some((p) => p[0] === name);
    value = webidlString(value);
    return this[kList].some((p) => p[0] === name && p[1] === value);
  }
  set(name, value) {
    name = webidlString(name); value = webidlString(value);
    const list = this[kList];
    const i = list.findIndex((p) => p[0] === name);
    if (i < 0) list.push([name, value]);
    else { list[i] = [name, value]; this[kList] = list.filter((p, j) => j <= i || p[0] !== name); }
    update(this);
  }
  sort() {
    // Stable sort by UTF-16 code units of the name.
    const list = this[kList].map((p, i) => [p, i]);
    list.sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1]));
    this[kList] = list.map((x) => x[0]);
    update(this);
  }
  forEach(cb, thisArg) { for (const [n, v] of this[kList].slice()) cb.call(thisArg, v, n, this); }
  *entries() { for (const [n, v] of this[kList]) yield [n, v]; }
  *keys() { for (const [n] of this[kList]) yield n; }
  *values() { for (const [, v] of this[kList]) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  toString() { return host.formSerialize(flatFromPairs(this[kList])); }
  get [Symbol.toStringTag]() { return 'URLSearchParams'; }
}

function pairsFromFlat(flat) {
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out;
}

function flatFromPairs(list) {
  const out = [];
  for (const [n, v] of list) out.push(n, v);
  return out;
}

function update(params) {
  const url = params[kURLObj];
  if (url === null) return;
  const s = params.toString();
  url[kHandle].SetSearch(s);
}

class URL {
  constructor(url, base) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'URL': 1 argument required, but only 0 present.");
    const h = host.urlParse(webidlString(url), base === undefined ? undefined : webidlString(base));
    if (h === null) throw new TypeError('Invalid URL: ' + webidlString(url));
    this[kHandle] = h;
    this[kParams] = null;
  }
  static canParse(url, base) {
    return host.urlParse(webidlString(url), base === undefined ? undefined : webidlString(base)) !== null;
  }
  static parse(url, base) {
    try { return new URL(url, base); } catch (e) { return null; }
  }
  get href() { return this[kHandle].Href(); }
  set href(v) {
    const h = host.urlParse(webidlString(v), undefined);
    if (h === null) throw new TypeError('Invalid URL: ' + webidlString(v));
    this[kHandle] = h;
    resetParams(this);
  }
  get origin() { return this[kHandle].Origin(); }
  get protocol() { return this[kHandle].Protocol(); }
  set protocol(v) { this[kHandle].SetProtocol(webidlString(v)); }
  get username() { return this[kHandle].Username(); }
  set username(v) { this[kHandle].SetUsername(webidlString(v)); }
  get password() { return this[kHandle].Password(); }
  set password(v) { this[kHandle].SetPassword(webidlString(v)); }
  get host() { return this[kHandle].Host(); }
  set host(v) { this[kHandle].SetHost(webidlString(v)); }
  get hostname() { return this[kHandle].Hostname(); }
  set hostname(v) { this[kHandle].SetHostname(webidlString(v)); }
  get port() { return this[kHandle].Port(); }
  set port(v) { this[kHandle].SetPort(webidlString(v)); }
  get pathname() { return this[kHandle].Pathname(); }
  set pathname(v) { this[kHandle].SetPathname(webidlString(v)); }
  get search() { return this[kHandle].Search(); }
  set search(v) { this[kHandle].SetSearch(webidlString(v)); resetParams(this); }
  get searchParams() {
    if (this[kParams] === null) {
      const p = new URLSearchParams(this[kHandle].Query());
      p[kURLObj] = this;
      this[kParams] = p;
    }
    return this[kParams];
  }
  get hash() { return this[kHandle].Hash(); }
  set hash(v) { this[kHandle].SetHash(webidlString(v)); }
  toString() { return this.href; }
  toJSON() { return this.href; }
  get [Symbol.toStringTag]() { return 'URL'; }
}

function resetParams(url) {
  if (url[kParams] !== null) url[kParams][kList] = pairsFromFlat(host.formParse(url[kHandle].Query()));
}

defineGlobal('URL', URL);
defineGlobal('URLSearchParams', URLSearchParams);
