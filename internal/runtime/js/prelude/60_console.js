// console: each call becomes one log entry of the service.
function inspect(v, depth, seen) {
  switch (typeof v) {
    case 'string': return depth === 0 ? v : JSON.stringify(v);
    case 'undefined': return 'undefined';
    case 'function': return `[Function: ${v.name || '(anonymous)'}]`;
    case 'symbol': return v.toString();
    case 'bigint': return v.toString() + 'n';
    case 'number': case 'boolean': return String(v);
  }
  if (v === null) return 'null';
  if (v instanceof Error) return v.stack && String(v.stack).indexOf(v.message) >= 0 ? String(v.stack) : `${v.name}: ${v.message}`;
  if (seen.includes(v)) return '[Circular]';
  if (depth > 4) return Array.isArray(v) ? '[Array]' : '[Object]';
  seen = seen.concat([v]);
  if (Array.isArray(v)) return '[ ' + v.map((e) => inspect(e, depth + 1, seen)).join(', ') + ' ]';
  if (v instanceof Headers || v instanceof URLSearchParams) {
    return `${v[Symbol.toStringTag]} { ` + [...v].map(([k, x]) => `${JSON.stringify(k)} => ${JSON.stringify(x)}`).join(', ') + ' }';
  }
  if (v instanceof URL) return `URL { href: ${JSON.stringify(v.href)} }`;
  if (v instanceof Map) return `Map(${v.size}) { ` + [...v].map(([k, x]) => `${inspect(k, depth + 1, seen)} => ${inspect(x, depth + 1, seen)}`).join(', ') + ' }';
  if (v instanceof Set) return `Set(${v.size}) { ` + [...v].map((x) => inspect(x, depth + 1, seen)).join(', ') + ' }';
  if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) {
    const u = v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    const name = v instanceof ArrayBuffer ? 'ArrayBuffer' : v.constructor.name;
    return `${name}(${u.length}) [ ${Array.from(u.slice(0, 50)).join(', ')}${u.length > 50 ? ', ...' : ''} ]`;
  }
  const keys = Object.keys(v);
  const tag = v.constructor && v.constructor !== Object && v.constructor.name ? v.constructor.name + ' ' : '';
  if (keys.length === 0) return tag + '{}';
  return tag + '{ ' + keys.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${inspect(v[k], depth + 1, seen)}`).join(', ') + ' }';
}

function format(args) {
  return Array.prototype.map.call(args, (a) => inspect(a, 0, [])).join(' ');
}

const counts = new Map();
const timersByLabel = new Map();
const console = {
  log(...a) { host.log('info', format(a)); },
  info(...a) { host.log('info', format(a)); },
  debug(...a) { host.log('debug', format(a)); },
  warn(...a) { host.log('warn', format(a)); },
  error(...a) { host.log('error', format(a)); },
  trace(...a) { host.log('debug', 'Trace: ' + format(a) + '\n' + String(new Error().stack).split('\n').slice(2).join('\n')); },
  assert(cond, ...a) { if (!cond) host.log('error', 'Assertion failed' + (a.length ? ': ' + format(a) : '')); },
  dir(v) { host.log('info', inspect(v, 1, [])); },
  table(v) { host.log('info', inspect(v, 1, [])); },
  count(label = 'default') { const n = (counts.get(label) || 0) + 1; counts.set(label, n); host.log('info', `${label}: ${n}`); },
  countReset(label = 'default') { counts.delete(label); },
  time(label = 'default') { timersByLabel.set(label, host.now()); },
  timeLog(label = 'default', ...a) { const t = timersByLabel.get(label); if (t !== undefined) host.log('info', `${label}: ${(host.now() - t).toFixed(3)}ms` + (a.length ? ' ' + format(a) : '')); },
  timeEnd(label = 'default') { console.timeLog(label); timersByLabel.delete(label); },
  group() {}, groupCollapsed() {}, groupEnd() {},
};
defineGlobal('console', console);
