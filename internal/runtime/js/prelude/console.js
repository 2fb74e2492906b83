// console: each call becomes one log entry of the service.
(function (host) {
  'use strict';
  function inspect(v, depth, seen) {
    switch (typeof v) {
      case 'string': return depth === 0 ? v : JSON.stringify(v);
      case 'undefined': return 'undefined';
      case 'function': return `[Function: ${v.name || '(anonymous)'}]`;
      case 'symbol': return v.toString();
      case 'bigint': return v.toString() + 'n';
      case 'number': return Object.is(v, -0) ? '-0' : String(v);
      case 'boolean': return String(v);
    }
    if (v === null) return 'null';
    if (v instanceof Error) {
      const head = `${v.name}: ${v.message}`;
      return v.stack && String(v.stack).indexOf(v.message) >= 0 ? String(v.stack) : head;
    }
    if (seen.includes(v)) return '[Circular]';
    if (depth > 4) return Array.isArray(v) ? '[Array]' : '[Object]';
    seen = seen.concat([v]);
    if (Array.isArray(v)) {
      const items = v.slice(0, 100).map((e) => inspect(e, depth + 1, seen));
      if (v.length > 100) items.push(`... ${v.length - 100} more items`);
      return '[ ' + items.join(', ') + ' ]';
    }
    const tag = v[Symbol.toStringTag];
    if (tag === 'Headers' || tag === 'URLSearchParams' || tag === 'FormData') {
      return `${tag} { ` + [...v].map(([k, x]) => `${JSON.stringify(k)} => ${inspect(x, depth + 1, seen)}`).join(', ') + ' }';
    }
    if (tag === 'URL') return `URL { href: ${JSON.stringify(v.href)} }`;
    if (tag === 'Request') return `Request { method: ${JSON.stringify(v.method)}, url: ${JSON.stringify(v.url)} }`;
    if (tag === 'Response') return `Response { status: ${v.status}, statusText: ${JSON.stringify(v.statusText)} }`;
    if (v instanceof Map) return `Map(${v.size}) { ` + [...v].map(([k, x]) => `${inspect(k, depth + 1, seen)} => ${inspect(x, depth + 1, seen)}`).join(', ') + ' }';
    if (v instanceof Set) return `Set(${v.size}) { ` + [...v].map((x) => inspect(x, depth + 1, seen)).join(', ') + ' }';
    if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
    if (v instanceof RegExp) return String(v);
    if (v instanceof Promise) return 'Promise { <pending> }';
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
      const u = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
      const name = v instanceof ArrayBuffer ? 'ArrayBuffer' : v.constructor.name;
      return `${name}(${u.length}) [ ${Array.from(u.slice(0, 50)).join(', ')}${u.length > 50 ? ', ...' : ''} ]`;
    }
    const keys = Object.keys(v);
    const ctor = v.constructor;
    const name = typeof tag === 'string' ? tag : (ctor && ctor !== Object && ctor.name ? ctor.name : '');
    const prefix = name ? name + ' ' : '';
    if (keys.length === 0) return prefix + '{}';
    return prefix + '{ ' + keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${inspect(v[k], depth + 1, seen)}`).join(', ') + ' }';
  }

  function format(args) {
    if (args.length > 0 && typeof args[0] === 'string' && args[0].indexOf('%') >= 0) {
      let i = 1;
      const head = args[0].replace(/%[sdifjoOc%]/g, (m) => {
        if (m === '%%') return '%';
        if (i >= args.length) return m;
        const a = args[i++];
        switch (m) {
          case '%s': return typeof a === 'string' ? a : inspect(a, 1, []);
          case '%d': case '%i': return typeof a === 'object' ? 'NaN' : String(m === '%i' ? parseInt(a) : Number(a));
          case '%f': return String(parseFloat(a));
          case '%j': try { return JSON.stringify(a); } catch (e) { return '[Circular]'; }
          case '%c': return '';
          default: return inspect(a, 1, []);
        }
      });
      return [head].concat(Array.prototype.slice.call(args, i).map((a) => inspect(a, 0, []))).join(' ');
    }
    return Array.prototype.map.call(args, (a) => inspect(a, 0, [])).join(' ');
  }

  const counts = new Map();
  const timers = new Map();
  let indent = '';
  const out = (level, msg) => host.log(level, indent ? msg.split('\n').map((l) => indent + l).join('\n') : msg);
  const console = {
    log(...a) { out('info', format(a)); },
    info(...a) { out('info', format(a)); },
    debug(...a) { out('debug', format(a)); },
    warn(...a) { out('warn', format(a)); },
    error(...a) { out('error', format(a)); },
    trace(...a) { out('debug', 'Trace: ' + format(a) + '\n' + String(new Error().stack).split('\n').slice(2).join('\n')); },
    assert(cond, ...a) { if (!cond) out('error', 'Assertion failed' + (a.length ? ': ' + format(a) : '')); },
    dir(v) { out('info', inspect(v, 1, [])); },
    dirxml(...a) { out('info', format(a)); },
    table(v) { out('info', inspect(v, 1, [])); },
    count(label = 'default') { const n = (counts.get(label) || 0) + 1; counts.set(label, n); out('info', `${label}: ${n}`); },
    countReset(label = 'default') { counts.delete(label); },
    time(label = 'default') { timers.set(label, performance.now()); },
    timeLog(label = 'default', ...a) {
      const t = timers.get(label);
      if (t !== undefined) out('info', `${label}: ${(performance.now() - t).toFixed(3)}ms` + (a.length ? ' ' + format(a) : ''));
    },
    timeEnd(label = 'default') { console.timeLog(label); timers.delete(label); },
    group(...a) { if (a.length) out('info', format(a)); indent += '  '; },
    groupCollapsed(...a) { if (a.length) out('info', format(a)); indent += '  '; },
    groupEnd() { indent = indent.slice(2); },
  };
  return { console, inspect: (v) => inspect(v, 0, []) };
})
