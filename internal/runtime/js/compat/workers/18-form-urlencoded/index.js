// HTML form posts (application/x-www-form-urlencoded) via formData().
export default {
  async fetch(request) {
    const form = await request.formData();
    const out = {
      name: form.get('name'),
      tags: form.getAll('tag'),
      missing: form.get('missing'),
      has: form.has('agree'),
      entries: [...form],
    };
    form.set('name', 'changed');
    form.append('extra', 'x');
    form.delete('tag');
    out.after = [...form.keys()];
    const echo = new URLSearchParams();
    for (const [k, v] of form) echo.append(k, v);
    return new Response(echo, { headers: { 'x-count': String(out.entries.length), 'x-json': JSON.stringify(out) } });
  },
};
