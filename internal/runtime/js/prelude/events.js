// DOMException, Event, EventTarget, AbortController and AbortSignal
// (https://dom.spec.whatwg.org/).
(function (host) {
  'use strict';
  const S = Symbol('state');

  const codes = {
    IndexSizeError: 1, HierarchyRequestError: 3, WrongDocumentError: 4, InvalidCharacterError: 5,
    NoModificationAllowedError: 7, NotFoundError: 8, NotSupportedError: 9, InvalidStateError: 11,
    SyntaxError: 12, InvalidModificationError: 13, NamespaceError: 14, InvalidAccessError: 15,
    TypeMismatchError: 17, SecurityError: 18, NetworkError: 19, AbortError: 20, URLMismatchError: 21,
    QuotaExceededError: 22, TimeoutError: 23, InvalidNodeTypeError: 24, DataCloneError: 25,
  };

  class DOMException extends Error {
    constructor(message, options) {
      super(message === undefined ? '' : String(message));
      let name = 'Error';
      if (options !== undefined && options !== null && typeof options === 'object') {
        if (options.name !== undefined) name = String(options.name);
        if ('cause' in options) Object.defineProperty(this, 'cause', { value: options.cause, writable: true, configurable: true });
      } else if (options !== undefined) {
        name = String(options);
      }
      Object.defineProperty(this, S, { value: name });
    }
    get name() { return this[S]; }
    get code() { return codes[this[S]] || 0; }
    get [Symbol.toStringTag]() { return 'DOMException'; }
  }
  for (const [name, code] of Object.entries(codes)) {
    const constName = name.replace(/Error$/, '').replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase() + '_ERR';
    Object.defineProperty(DOMException, constName, { value: code, enumerable: true });
    Object.defineProperty(DOMException.prototype, constName, { value: code, enumerable: true });
  }

  class Event {
    constructor(type, init) {
      if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required, but only 0 present.");
      init = init || {};
      this[S] = {
        type: String(type), bubbles: !!init.bubbles, cancelable: !!init.cancelable, composed: !!init.composed,
        target: null, currentTarget: null, defaultPrevented: false, stop: false, stopNow: false,
        timeStamp: Date.now(), phase: 0,
      };
    }
    get type() { return this[S].type; }
    get bubbles() { return this[S].bubbles; }
    get cancelable() { return this[S].cancelable; }
    get composed() { return this[S].composed; }
    get target() { return this[S].target; }
    get srcElement() { return this[S].target; }
    get currentTarget() { return this[S].currentTarget; }
    get defaultPrevented() { return this[S].defaultPrevented; }
    get returnValue() { return !this[S].defaultPrevented; }
    get eventPhase() { return this[S].phase; }
    get timeStamp() { return this[S].timeStamp; }
    get isTrusted() { return false; }
    get cancelBubble() { return this[S].stop; }
    set cancelBubble(v) { if (v) this[S].stop = true; }
    composedPath() { return this[S].currentTarget ? [this[S].currentTarget] : []; }
    preventDefault() { if (this[S].cancelable) this[S].defaultPrevented = true; }
    stopPropagation() { this[S].stop = true; }
    stopImmediatePropagation() { this[S].stop = true; this[S].stopNow = true; }
    get [Symbol.toStringTag]() { return 'Event'; }
  }
  Object.assign(Event, { NONE: 0, CAPTURING_PHASE: 1, AT_TARGET: 2, BUBBLING_PHASE: 3 });

  class CustomEvent extends Event {
    constructor(type, init) { super(type, init); this[S].detail = init && init.detail !== undefined ? init.detail : null; }
    get detail() { return this[S].detail; }
  }

  const L = Symbol('listeners');
  class EventTarget {
    constructor() { this[L] = new Map(); }
    addEventListener(type, listener, options) {
      if (listener === null || listener === undefined) return;
      type = String(type);
      const once = typeof options === 'object' && options !== null && !!options.once;
      const signal = typeof options === 'object' && options !== null ? options.signal : undefined;
      if (signal && signal.aborted) return;
      let list = this[L].get(type);
      if (!list) { list = []; this[L].set(type, list); }
      if (list.some((e) => e.listener === listener)) return;
      const entry = { listener, once, removed: false };
      list.push(entry);
      if (signal) signal.addEventListener('abort', () => this.removeEventListener(type, listener));
    }
    removeEventListener(type, listener) {
      const list = this[L].get(String(type));
      if (!list) return;
      const i = list.findIndex((e) => e.listener === listener);
      if (i >= 0) { list[i].removed = true; list.splice(i, 1); }
    }
    dispatchEvent(event) {
      if (!(event instanceof Event)) throw new TypeError("Failed to execute 'dispatchEvent' on 'EventTarget': parameter 1 is not of type 'Event'.");
      const st = event[S];
      st.target = this;
      st.currentTarget = this;
      st.phase = 2;
      const list = (this[L].get(st.type) || []).slice();
      for (const e of list) {
        if (e.removed) continue;
        if (e.once) this.removeEventListener(st.type, e.listener);
        try {
          if (typeof e.listener === 'function') e.listener.call(this, event);
          else if (e.listener && typeof e.listener.handleEvent === 'function') e.listener.handleEvent(event);
        } catch (err) {
          host.reportError(err);
        }
        if (st.stopNow) break;
      }
      st.currentTarget = null;
      st.phase = 0;
      return !st.defaultPrevented;
    }
    get [Symbol.toStringTag]() { return 'EventTarget'; }
  }

  const A = Symbol('abort');
  class AbortSignal extends EventTarget {
    constructor(key) {
      if (key !== A) throw new TypeError('Illegal constructor');
      super();
      this[S] = { aborted: false, reason: undefined, onabort: null, onabortListener: null };
    }
    get aborted() { return this[S].aborted; }
    get reason() { return this[S].reason; }
    get onabort() { return this[S].onabort; }
    set onabort(f) {
      // An event handler attribute is a listener registered when first set.
      const st = this[S];
      st.onabort = typeof f === 'function' ? f : null;
      if (st.onabort && !st.onabortListener) {
        st.onabortListener = (e) => { if (typeof st.onabort === 'function') st.onabort.call(this, e); };
        this.addEventListener('abort', st.onabortListener);
      }
    }
    throwIfAborted() { if (this[S].aborted) throw this[S].reason; }
    static abort(reason) {
      const s = new AbortSignal(A);
      signalAbort(s, reason);
      return s;
    }
    static timeout(ms) {
      const s = new AbortSignal(A);
      setTimeout(() => signalAbort(s, new DOMException('The operation was aborted due to timeout', 'TimeoutError')), Number(ms));
      return s;
    }
    static any(signals) {
      const s = new AbortSignal(A);
      for (const x of signals) {
        if (x.aborted) { signalAbort(s, x.reason); return s; }
      }
      for (const x of signals) x.addEventListener('abort', () => signalAbort(s, x.reason));
      return s;
    }
    get [Symbol.toStringTag]() { return 'AbortSignal'; }
  }

  function signalAbort(s, reason) {
    const st = s[S];
    if (st.aborted) return;
    st.aborted = true;
    st.reason = reason === undefined ? new DOMException('The operation was aborted', 'AbortError') : reason;
    s.dispatchEvent(new Event('abort'));
  }

  class AbortController {
    constructor() { this[S] = new AbortSignal(A); }
    get signal() { return this[S]; }
    abort(reason) { signalAbort(this[S], reason); }
    get [Symbol.toStringTag]() { return 'AbortController'; }
  }

  return { DOMException, Event, CustomEvent, EventTarget, AbortSignal, AbortController };
})
