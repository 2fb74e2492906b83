// AbortController and AbortSignal: events, reasons, timeouts.
export default {
  async fetch() {
    const out = [];
    const c = new AbortController();
    c.signal.addEventListener('abort', (e) => out.push('listener ' + e.type));
    c.signal.onabort = () => out.push('onabort');
    out.push(c.signal.aborted);
    c.abort('because');
    c.abort('twice');
    out.push(c.signal.aborted, c.signal.reason);
    try { c.signal.throwIfAborted(); } catch (e) { out.push('threw ' + e); }
    const d = AbortSignal.abort();
    out.push(d.reason.name, d.reason.message, d.reason instanceof DOMException);
    const t = AbortSignal.timeout(5);
    await new Promise((r) => t.addEventListener('abort', r));
    out.push(t.reason.name);
    const any = AbortSignal.any([new AbortController().signal, AbortSignal.abort('x')]);
    out.push(any.aborted, any.reason);
    const ev = new Event('custom', { cancelable: true });
    const target = new EventTarget();
    target.addEventListener('custom', (e) => e.preventDefault(), { once: true });
    out.push(target.dispatchEvent(ev), ev.defaultPrevented, target.dispatchEvent(new Event('custom')));
    return Response.json(out);
  },
};
