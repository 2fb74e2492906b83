// structuredClone: https://html.spec.whatwg.org/#structured-cloning
(function (host) {
  'use strict';
  const errorCtors = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };

  function fail(v) {
    let s;
    try { s = typeof v === 'symbol' ? v.toString() : String(v); } catch (e) { s = Object.prototype.toString.call(v); }
    throw new DOMException(s + ' could not be cloned.', 'DataCloneError');
  }

  function clone(v, memo) {
    if (v === null || (typeof v !== 'object' && typeof v !== 'function')) {
      if (typeof v === 'symbol') fail(v);
      return v;
    }
    if (typeof v === 'function') fail(v);
    if (memo.has(v)) return memo.get(v);
    let out;
    const tag = Object.prototype.toString.call(v);
    if (Array.isArray(v)) {
      out = new Array(v.length);
      memo.set(v, out);
      for (const k of Object.keys(v)) out[k] = clone(v[k], memo);
      return out;
    }
    if (v instanceof Date) { out = new Date(v.getTime()); memo.set(v, out); return out; }
    if (v instanceof RegExp) { out = new RegExp(v.source, v.flags); memo.set(v, out); return out; }
    if (v instanceof ArrayBuffer) { out = v.slice(0); memo.set(v, out); return out; }
    if (ArrayBuffer.isView(v)) {
      const buf = clone(v.buffer, memo);
      const C = v instanceof DataView ? DataView : v.constructor;
      out = v instanceof DataView ? new DataView(buf, v.byteOffset, v.byteLength) : new C(buf, v.byteOffset, v.length);
      memo.set(v, out);
      return out;
    }
    if (v instanceof Map) {
      out = new Map();
      memo.set(v, out);
      for (const [k, x] of v) out.set(clone(k, memo), clone(x, memo));
      return out;
    }
    if (v instanceof Set) {
      out = new Set();
      memo.set(v, out);
      for (const x of v) out.add(clone(x, memo));
      return out;
    }
    if (v instanceof Error) {
      const C = errorCtors[v.name] || Error;
      out = new C(v.message);
      memo.set(v, out);
      if ('cause' in v) out.cause = clone(v.cause, memo);
      if (v.stack !== undefined) Object.defineProperty(out, 'stack', { value: String(v.stack), writable: true, configurable: true });
      return out;
    }
    if (v instanceof Boolean) return new Boolean(v.valueOf());
    if (v instanceof Number) return new Number(v.valueOf());
    if (v instanceof String) return new String(v.valueOf());
    if (tag === '[object Blob]' || tag === '[object File]') return host.cloneBlob(v);
    if (tag !== '[object Object]' || v instanceof Promise || v instanceof WeakMap || v instanceof WeakSet) fail(v);
    const proto = Object.getPrototypeOf(v);
    if (proto !== Object.prototype && proto !== null && typeof v[Symbol.toStringTag] === 'string') fail(v);
    out = {};
    memo.set(v, out);
    for (const k of Object.keys(v)) out[k] = clone(v[k], memo);
    return out;
  }

  function structuredClone(value, options) {
    if (arguments.length === 0) throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
    const out = clone(value, new Map());
    if (options && options.transfer) {
      for (const t of options.transfer) {
        if (!(t instanceof ArrayBuffer)) fail(t);
      }
    }
    return out;
  }
  return { structuredClone };
})
