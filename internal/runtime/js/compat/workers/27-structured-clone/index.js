// structuredClone: deep copies, cycles, special types and refusals.
export default {
  fetch() {
    const date = new Date(Date.UTC(2024, 1, 29, 12, 0, 0));
    const orig = { n: 1, s: 'two', nested: { arr: [1, { deep: true }], date }, map: new Map([['k', { v: 1 }]]), set: new Set([1, 2]), re: /ab+c/gi, bytes: new Uint8Array([1, 2, 3]) };
    orig.self = orig;
    const c = structuredClone(orig);
    const out = {
      notSame: c !== orig && c.nested !== orig.nested,
      cycle: c.self === c,
      date: c.nested.date instanceof Date && c.nested.date.toISOString(),
      map: c.map.get('k').v,
      set: [...c.set],
      re: String(c.re),
      bytes: Array.from(c.bytes),
      typed: c.bytes instanceof Uint8Array,
      err: structuredClone(new RangeError('range!')).message,
    };
    const errors = [];
    for (const bad of [() => 1, { f() {} }, Symbol('s')]) {
      try { structuredClone(bad); errors.push('none'); } catch (e) { errors.push(e.name); }
    }
    out.errors = errors;
    return Response.json(out);
  },
};
