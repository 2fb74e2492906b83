// Promise combinators and async error flow.
const delay = (ms, v, fail) => new Promise((res, rej) => setTimeout(() => (fail ? rej(new Error(v)) : res(v)), ms));

export default {
  async fetch() {
    const out = {};
    out.all = await Promise.all([delay(10, 'a'), delay(1, 'b'), 'c']);
    out.allSettled = (await Promise.allSettled([delay(1, 'ok'), delay(2, 'boom', true)])).map((r) => r.status + ':' + (r.value ?? r.reason.message));
    out.race = await Promise.race([delay(20, 'slow'), delay(2, 'fast')]);
    out.any = await Promise.any([delay(1, 'x', true), delay(5, 'y')]);
    try { await Promise.any([delay(1, 'p', true), delay(2, 'q', true)]); } catch (e) { out.anyError = [e.constructor.name, e.errors.map((x) => x.message)]; }
    try { await Promise.all([delay(1, 'first failure', true), delay(5, 'v')]); } catch (e) { out.allError = e.message; }
    const thenable = { then(res) { res('from thenable'); } };
    out.thenable = await thenable;
    out.chain = await Promise.resolve(1).then((x) => x + 1).then((x) => { throw new Error('at ' + x); }).catch((e) => e.message).finally(() => { out.finally = true; });
    async function* gen() { yield 1; yield 2; }
    out.asyncGen = [];
    for await (const v of gen()) out.asyncGen.push(v);
    return Response.json(out);
  },
};
