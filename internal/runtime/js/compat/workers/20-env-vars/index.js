// [vars] of every type, as a worker sees them in env.
export default {
  fetch(request, env) {
    const out = {};
    for (const k of Object.keys(env).sort()) out[k] = [typeof env[k], env[k]];
    out.greeting = `${env.GREETING}, ${env.NAME}!`;
    out.limit = env.LIMIT + 1;
    out.flags = env.FEATURES.enabled.join('+');
    out.missing = env.NOPE === undefined;
    return Response.json(out);
  },
};
