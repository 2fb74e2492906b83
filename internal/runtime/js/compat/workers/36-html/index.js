// Server-rendered HTML with escaping.
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const page = (title, items) => `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(title)}</title></head>
<body><h1>${esc(title)}</h1><ul>${items.map((i) => `<li data-id="${esc(i.id)}">${esc(i.label)}</li>`).join('')}</ul></body></html>`;

export default {
  fetch(request) {
    const q = new URL(request.url).searchParams.get('q') ?? '';
    const items = [{ id: 1, label: 'Fish & Chips' }, { id: 2, label: '<script>alert(1)</script>' }, { id: '3"', label: "O'Brien" }]
      .filter((i) => i.label.toLowerCase().includes(q.toLowerCase()));
    return new Response(page(`Results for "${q}"`, items), { headers: { 'content-type': 'text/html;charset=UTF-8', 'x-frame-options': 'DENY' } });
  },
};
