// JSON edge cases: unicode, escaping, numbers, replacers and reviver.
export default {
  async fetch(request) {
    const input = await request.json();
    const out = {
      echo: input,
      pretty: JSON.stringify({ a: [1, { b: 2 }], c: 'x' }, null, 2),
      replacer: JSON.stringify({ keep: 1, drop: 2, n: { keep: 3 } }, ['keep', 'n']),
      fn: JSON.stringify({ f() {}, u: undefined, s: Symbol('x'), n: null, nan: NaN, inf: -Infinity, neg0: -0 }),
      escapes: JSON.stringify('quote " backslash \\ newline \n tab \t ctrl \u0001 emoji 😀 lone \ud800'),
      big: JSON.stringify([1e21, 1e-7, 0.1 + 0.2, 2 ** 53, -1.5e300]),
      reviver: JSON.parse('{"a":"1","b":{"c":"2"}}', (k, v) => (typeof v === 'string' ? Number(v) * 10 : v)),
      toJSON: JSON.stringify({ when: { toJSON: () => 'custom' } }),
    };
    try { JSON.parse('{bad'); } catch (e) { out.parseError = e.name; }
    const circular = {}; circular.self = circular;
    try { JSON.stringify(circular); } catch (e) { out.circularError = e.name; }
    return Response.json(out);
  },
};
