// atob and btoa: round trips, whitespace, binary data and errors.
export default {
  fetch(request) {
    const url = new URL(request.url);
    const input = url.searchParams.get('s') ?? '';
    const out = { encoded: btoa(input) };
    out.decoded = atob(out.encoded);
    out.binary = btoa(String.fromCharCode(0, 1, 254, 255));
    out.bytes = Array.from(atob('AAH+/w=='), (c) => c.charCodeAt(0));
    out.spaces = atob(' SGVs\nbG8 ');
    out.noPad = atob('SGVsbG8');
    out.base64url = btoa('??>>').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    out.errors = [];
    for (const bad of ['***', 'abcde', 'ab=c']) {
      try { atob(bad); out.errors.push('none'); } catch (e) { out.errors.push(`${e.name} ${e.code}`); }
    }
    try { btoa('€'); } catch (e) { out.errors.push(`${e.name}: ${e.message}`); }
    return Response.json(out);
  },
};
