// Headers: https://fetch.spec.whatwg.org/#headers-class
const tokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const badValueRe = /[\0\r\n]/;

function normalizeName(name) {
  name = webidlString(name);
  if (!tokenRe.test(name)) throw new TypeError(`Invalid header name: "${name}"`);
  return name.toLowerCase();
}

function normalizeValue(value) {
  value = webidlString(value).replace(/^[\t\n\r ]+|[\t\n\r ]+$/g, '');
  if (badValueRe.test(value)) throw new TypeError(`Invalid header value: "${value}"`);
  return value;
}

class Headers {
  constructor(init) {
    this[kList] = [];      // [lowercase name, value] in insertion order
    this[kGuard] = 'none';
    if (init === undefined || init === null) return;
    if (init instanceof Headers) {
      for (const [n, v] of init[kList]) this[kList].push([n, v]);
    } else if (typeof init === 'object' && typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        const p = Array.from(pair);
        if (p.length !== 2) throw new TypeError('Headers constructor: expected name/value pair to be length 2, found ' + p.length);
        this.append(p[0], p[1]);
      }
    } else if (typeof init === 'object') {
      for (const k of Object.keys(init)) this.append(k, init[k]);
    } else {
      throw new TypeError('Headers constructor: init must be an object, an array of pairs or a Headers');
    }
  }
  append(name, value) {
    checkGuard(this);
    this[kList].push([normalizeName(name), normalizeValue(value)]);
  }
  delete(name) {
    checkGuard(this);
    name = normalizeName(name);
    this[kList] = this[kList].filter((p) => p[0] !== name);
  }
  get(name) {
    name = normalizeName(name);
    let out = null;
    for (const [n, v] of this[kList]) {
      if (n === name) out = out === null ? v : out + ', ' + v;
    }
    return out;
  }
  getAll(name) {
    name = normalizeName(name);
    if (name !== 'set-cookie') throw new TypeError('getAll() can only be used with the header name "Set-Cookie"');
    return this.getSetCookie();
  }
  getSetCookie() {
    return this[kList].filter((p) => p[0] === 'set-cookie').map((p) => p[1]);
  }
  has(name) {
    name = normalizeName(name);
    return this[kList].some((p) => p[0] === name);
  }
  set(name, value) {
    checkGuard(this);
    name = normalizeName(name);
    value = normalizeValue(value);
    const list = this[kList];
    const i = list.findIndex((p) => p[0] === name);
    if (i < 0) { list.push([name, value]); return; }
    list[i] = [name, value];
    this[kList] = list.filter((p, j) => j <= i || p[0] !== name);
  }
  forEach(cb, thisArg) {
    for (const [n, v] of this) cb.call(thisArg, v, n, this);
  }
  *entries() {
    // Sorted by name, values of one name combined; set-cookie kept apart.
    const names = [...new Set(this[kList].map((p) => p[0]))].sort();
    for (const n of names) {
      if (n === 'set-cookie') {
        for (const v of this.getSetCookie()) yield [n, v];
      } else {
        yield [n, this.get(n)];
      }
    }
  }
  *keys() { for (const [n] of this.entries()) yield n; }
  *values() { for (const [, v] of this.entries()) yield v; }
  [Symbol.iterator]() { return this.entries(); }
  get [Symbol.toStringTag]() { return 'Headers'; }
}

function checkGuard(h) {
  if (h[kGuard] === 'immutable') throw new TypeError("Can't modify immutable headers.");
}

// headersFromHost builds Headers from Go's flat [name, value, ...] list.
function headersFromHost(flat, guard) {
  const h = new Headers();
  const list = h[kList];
  for (let i = 0; i < flat.length; i += 2) list.push([flat[i], flat[i + 1]]);
  h[kGuard] = guard || 'none';
  return h;
}

defineGlobal('Headers', Headers);
