// What Go needs from the prelude.
function makeContext(waitUntil) {
  return {
    waitUntil(p) { waitUntil.push(Promise.resolve(p)); },
    passThroughOnException() {},
  };
}

// workerHandlers finds the handlers of an ES module worker's default
// export (an object, or a class whose instances have the methods).
function workerHandlers(mod) {
  if (mod === undefined || mod === null || typeof mod !== 'object') {
    throw new TypeError('the worker bundle did not evaluate to a module');
  }
  let def = mod.default;
  if (typeof def === 'function' && def.prototype && typeof def.prototype.fetch === 'function') {
    def = new def();
  }
  if (def === undefined || def === null || (typeof def !== 'object' && typeof def !== 'function')) {
    throw new TypeError('the worker has no default export; write `export default { async fetch(request, env, ctx) { … } }`');
  }
  return def;
}

return { makeIncoming, makeContext, responseParts, workerHandlers, Response };
