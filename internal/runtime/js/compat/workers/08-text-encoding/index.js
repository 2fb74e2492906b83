// TextEncoder and TextDecoder: multibyte text, invalid bytes, BOM, streaming.
export default {
  async fetch(request) {
    const enc = new TextEncoder();
    const dec = new TextDecoder();
    const bytes = enc.encode('héllo €𝄞');
    const out = {
      encoding: enc.encoding,
      bytes: Array.from(bytes),
      roundTrip: dec.decode(bytes),
      invalid: new TextDecoder().decode(new Uint8Array([0x61, 0xff, 0x62, 0xe2, 0x82, 0x63, 0xf0, 0x9f, 0x98])),
      bomKept: new TextDecoder('utf-8', { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])).length,
      bomDropped: new TextDecoder().decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x41])).length,
      labels: ['utf8', 'UTF-8', ' unicode-1-1-utf-8 ', 'utf-16le', 'latin1'].map((l) => new TextDecoder(l).encoding),
      latin1: new TextDecoder('windows-1252').decode(new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x80])),
      utf16: new TextDecoder('utf-16le').decode(new Uint8Array([0x68, 0x00, 0x69, 0x00, 0x3d, 0xd8, 0x00, 0xde])),
    };
    try { new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array([0xc3])); out.fatal = 'none'; } catch (e) { out.fatal = e.name; }
    try { new TextDecoder('nope'); out.badLabel = 'none'; } catch (e) { out.badLabel = e.name; }
    const s = new TextDecoder();
    const euro = enc.encode('€');
    out.streamed = s.decode(euro.subarray(0, 1), { stream: true }) + '|' + s.decode(euro.subarray(1), { stream: true }) + '|' + s.decode();
    const target = new Uint8Array(5);
    out.into = enc.encodeInto('a€b', target);
    out.intoBytes = Array.from(target);
    out.body = await request.text();
    out.bodyLength = out.body.length;
    return new Response(JSON.stringify(out), { headers: { 'content-type': 'application/json; charset=utf-8' } });
  },
};
