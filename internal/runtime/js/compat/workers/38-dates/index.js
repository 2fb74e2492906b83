// Date arithmetic with fixed instants (UTC, no locale formatting).
export default {
  fetch(request) {
    const at = Number(new URL(request.url).searchParams.get('t') ?? 1700000000000);
    const d = new Date(at);
    const next = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1));
    const out = {
      iso: d.toISOString(),
      utc: d.toUTCString(),
      parts: [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCDay(), d.getUTCHours()],
      nextMonth: next.toISOString(),
      daysLeft: Math.ceil((next - d) / 86400000),
      parsed: [Date.parse('2024-02-29T12:00:00Z'), Date.parse('2024-02-29'), Date.parse('garbage')],
      json: JSON.stringify({ d }),
      leap: new Date(Date.UTC(2023, 1, 29)).toISOString(),
      invalid: String(new Date(NaN)),
    };
    return Response.json(out, { headers: { 'last-modified': d.toUTCString(), expires: next.toUTCString() } });
  },
};
