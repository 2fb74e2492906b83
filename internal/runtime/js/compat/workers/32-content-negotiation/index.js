// Content negotiation on Accept and Accept-Language.
const messages = { en: 'Hello', fr: 'Bonjour', de: 'Hallo' };

function preferred(header, available) {
  const ranked = (header || '').split(',').map((p) => {
    const [value, ...params] = p.trim().split(';');
    const q = params.map((x) => x.trim()).find((x) => x.startsWith('q='));
    return { value: value.trim().toLowerCase(), q: q ? Number(q.slice(2)) : 1 };
  }).filter((x) => x.value && x.q > 0).sort((a, b) => b.q - a.q);
  for (const { value } of ranked) {
    const hit = available.find((a) => a === value || value === '*/*' || value === '*' || a.split('-')[0] === value.split('-')[0] || (value.endsWith('/*') && a.startsWith(value.slice(0, -1))));
    if (hit) return hit;
  }
  return available[0];
}

export default {
  fetch(request) {
    const type = preferred(request.headers.get('accept'), ['application/json', 'text/html', 'text/plain']);
    const lang = preferred(request.headers.get('accept-language'), ['en', 'fr', 'de']);
    const msg = messages[lang];
    const headers = { vary: 'Accept, Accept-Language', 'content-language': lang };
    if (type === 'application/json') return Response.json({ msg, lang }, { headers });
    if (type === 'text/html') return new Response(`<p lang="${lang}">${msg}</p>`, { headers: { ...headers, 'content-type': 'text/html; charset=utf-8' } });
    return new Response(msg, { headers });
  },
};
