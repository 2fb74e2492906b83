// Blob and File: construction, slicing, reading, and in FormData.
export default {
  async fetch() {
    const b = new Blob(['hello ', new Uint8Array([119, 111, 114, 108, 100]), new Blob(['!'])], { type: 'Text/Plain' });
    const f = new File(['{"a":1}'], 'data.json', { type: 'application/json', lastModified: 1700000000000 });
    const fd = new FormData();
    fd.append('blob', new Blob(['x']));
    fd.append('file', f);
    fd.append('renamed', f, 'other.json');
    const out = {
      size: b.size,
      type: b.type,
      text: await b.text(),
      slice: await b.slice(6, -1).text(),
      sliceNeg: await b.slice(-6).text(),
      bytes: Array.from(new Uint8Array(await b.slice(0, 3).arrayBuffer())),
      file: [f.name, f.type, f.size, f.lastModified, f instanceof Blob],
      json: JSON.parse(await f.text()),
      formNames: [...fd].map(([k, v]) => [k, v.name, v.size]),
      streamed: await new Response(b.stream()).text(),
    };
    return Response.json(out);
  },
};
