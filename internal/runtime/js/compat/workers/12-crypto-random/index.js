// Random values: formats and limits (the values themselves differ per run).
export default {
  fetch() {
    const uuid = crypto.randomUUID();
    const a = crypto.getRandomValues(new Uint8Array(16));
    const b = crypto.getRandomValues(new Uint32Array(4));
    const out = {
      uuidShape: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(uuid),
      distinct: crypto.randomUUID() !== uuid,
      sameArray: crypto.getRandomValues(a) === a,
      lengths: [a.length, b.length, b.BYTES_PER_ELEMENT],
      notAllZero: a.some((x) => x !== 0),
      errors: [],
    };
    try { crypto.getRandomValues(new Uint8Array(65537)); } catch (e) { out.errors.push(e.name); }
    try { crypto.getRandomValues(new Float32Array(4)); } catch (e) { out.errors.push(e.name); }
    out.max = crypto.getRandomValues(new Uint8Array(65536)).length;
    return Response.json(out);
  },
};
