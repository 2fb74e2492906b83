// Streams: https://streams.spec.whatwg.org/ — ReadableStream,
// WritableStream, TransformStream and their readers, writers and
// controllers, enough to stream a response body (server-sent events,
// proxied bodies, TextEncoderStream pipelines). Byte streams behave as
// default streams of Uint8Array chunks; BYOB readers are not supported.
(function (host) {
  'use strict';
  const S = Symbol('state');
  const D = Symbol('decoder');

  function thrower(name) {
    return function () { throw new TypeError(name + ' is not supported by wisp'); };
  }
  function isFn(f) { return typeof f === 'function'; }
  function call(obj, name, args) {
    if (obj === undefined || obj === null) return undefined;
    const f = obj[name];
    if (f === undefined || f === null) return undefined;
    if (!isFn(f)) throw new TypeError(name + ' must be a function');
    return f.apply(obj, args);
  }
  function promiseCall(obj, name, args) {
    try { return Promise.resolve(call(obj, name, args)); } catch (e) { return Promise.reject(e); }
  }
  function deferred() {
    const d = {};
    d.promise = new Promise((res, rej) => { d.resolve = res; d.reject = rej; });
    return d;
  }
  function silence(p) { p.catch(() => {}); return p; }
  function sizeOf(strategy) {
    const size = strategy && strategy.size;
    if (size === undefined) return () => 1;
    if (!isFn(size)) throw new TypeError('size must be a function');
    return (c) => { const n = Number(size(c)); if (!(n >= 0) || n === Infinity) throw new RangeError('Invalid chunk size'); return n; };
  }
  function hwmOf(strategy, dflt) {
    const h = strategy && strategy.highWaterMark;
    if (h === undefined) return dflt;
    const n = Number(h);
    if (Number.isNaN(n) || n < 0) throw new RangeError('Invalid highWaterMark');
    return n;
  }

  // ---------------------------------------------------------------- Readable
  class ReadableStreamDefaultController {
    constructor() { throw new TypeError('Illegal constructor'); }
    get desiredSize() { return desiredSize(this[S]); }
    enqueue(chunk) {
      const st = this[S];
      if (st.closeRequested || st.state !== 'readable') throw new TypeError('Cannot enqueue a chunk into a readable stream that is closed or has been requested to be closed');
      enqueue(st, chunk);
    }
    close() {
      const st = this[S];
      if (st.closeRequested || st.state !== 'readable') throw new TypeError('Cannot close a readable stream that is closed or has been requested to be closed');
      st.closeRequested = true;
      if (st.queue.length === 0) finishClose(st);
    }
    error(e) { errorStream(this[S], e); }
    get byobRequest() { return null; }
    get [Symbol.toStringTag]() { return 'ReadableStreamDefaultController'; }
  }

  function desiredSize(st) {
    if (st.state === 'errored') return null;
    if (st.state === 'closed') return 0;
    return st.hwm - st.queueSize;
  }

  function enqueue(st, chunk) {
    if (st.bytes && !ArrayBuffer.isView(chunk)) throw new TypeError('chunk must be an ArrayBufferView');
    if (st.reads.length > 0) {
      st.reads.shift().resolve({ value: chunk, done: false });
    } else {
      let n;
      try { n = st.size(chunk); } catch (e) { errorStream(st, e); throw e; }
      st.queue.push([chunk, n]);
      st.queueSize += n;
    }
    pullIfNeeded(st);
  }

  function finishClose(st) {
    if (st.state !== 'readable') return;
    st.state = 'closed';
    for (const r of st.reads) r.resolve({ value: undefined, done: true });
    st.reads = [];
    if (st.reader) st.reader[S].closed.resolve(undefined);
  }

  function errorStream(st, e) {
    if (st.state !== 'readable') return;
    st.state = 'errored';
    st.storedError = e;
    st.queue = [];
    st.queueSize = 0;
    for (const r of st.reads) r.reject(e);
    st.reads = [];
    if (st.reader) silence(st.reader[S].closed.promise), st.reader[S].closed.reject(e);
  }

  function pullIfNeeded(st) {
    if (!st.started || st.state !== 'readable' || st.closeRequested) return;
    if (!(st.reads.length > 0 || desiredSize(st) > 0)) return;
    if (st.pulling) { st.pullAgain = true; return; }
    st.pulling = true;
    promiseCall(st.source, 'pull', [st.controller]).then(() => {
      st.pulling = false;
      if (st.pullAgain) { st.pullAgain = false; pullIfNeeded(st); }
    }, (e) => errorStream(st, e));
  }

  function cancelStream(st, reason) {
    st.disturbed = true;
    if (st.state === 'closed') return Promise.resolve(undefined);
    if (st.state === 'errored') return Promise.reject(st.storedError);
    st.queue = [];
    st.queueSize = 0;
    finishClose(st);
    return promiseCall(st.source, 'cancel', [reason]).then(() => undefined);
  }

  class ReadableStream {
    constructor(source, strategy) {
      if (source === null) throw new TypeError('underlyingSource must not be null');
      source = source === undefined ? {} : source;
      const type = source.type === undefined ? undefined : String(source.type);
      if (type !== undefined && type !== 'bytes') throw new RangeError('Invalid type: ' + type);
      const st = {
        state: 'readable', queue: [], queueSize: 0, reads: [], reader: null,
        source, started: false, pulling: false, pullAgain: false, closeRequested: false,
        disturbed: false, storedError: undefined, bytes: type === 'bytes',
        hwm: hwmOf(strategy, type === 'bytes' ? 0 : 1), size: type === 'bytes' ? () => 1 : sizeOf(strategy),
      };
      const c = Object.create(ReadableStreamDefaultController.prototype);
      c[S] = st;
      st.controller = c;
      this[S] = st;
      promiseCall(source, 'start', [c]).then(() => { st.started = true; pullIfNeeded(st); }, (e) => errorStream(st, e));
    }
    get locked() { return this[S].reader !== null; }
    cancel(reason) {
      if (this[S].reader) return Promise.reject(new TypeError('Cannot cancel a stream locked to a reader'));
      return cancelStream(this[S], reason);
    }
    getReader(options) {
      if (options && options.mode !== undefined) {
        if (String(options.mode) === 'byob') throw new TypeError('ReadableStreamBYOBReader is not supported by wisp');
        throw new RangeError('Invalid reader mode');
      }
      return new ReadableStreamDefaultReader(this);
    }
    tee() { return tee(this); }
    pipeTo(dest, options) { return pipeTo(this, dest, options || {}); }
    pipeThrough(pair, options) {
      if (!pair || !(pair.writable instanceof WritableStream) || !(pair.readable instanceof ReadableStream)) {
        throw new TypeError('pipeThrough needs a { writable, readable } pair');
      }
      silence(pipeTo(this, pair.writable, options || {}));
      return pair.readable;
    }
    values(options) { return iterate(this, !!(options && options.preventCancel)); }
    [Symbol.asyncIterator](options) { return this.values(options); }
    static from(iterable) {
      if (iterable instanceof ReadableStream) return iterable;
      const am = iterable[Symbol.asyncIterator];
      const it = isFn(am) ? am.call(iterable) : iterable[Symbol.iterator]();
      return new ReadableStream({
        pull(c) {
          return Promise.resolve(it.next()).then((r) => (r.done ? c.close() : c.enqueue(r.value)));
        },
        cancel(reason) { if (isFn(it.return)) return it.return(reason); },
      }, { highWaterMark: 0 });
    }
    get [Symbol.toStringTag]() { return 'ReadableStream'; }
  }

  class ReadableStreamDefaultReader {
    constructor(stream) {
      if (!(stream instanceof ReadableStream)) throw new TypeError('ReadableStreamDefaultReader needs a ReadableStream');
      const st = stream[S];
      if (st.reader) throw new TypeError('This ReadableStream is currently locked to a reader.');
      st.reader = this;
      const closed = deferred();
      silence(closed.promise);
      this[S] = { st, closed };
      if (st.state === 'closed') closed.resolve(undefined);
      if (st.state === 'errored') closed.reject(st.storedError);
    }
    get closed() { return this[S].closed.promise; }
    read() {
      const r = this[S];
      if (!r.st) return Promise.reject(new TypeError('This ReadableStreamDefaultReader has been released'));
      const st = r.st;
      st.disturbed = true;
      if (st.queue.length > 0) {
        const [chunk, n] = st.queue.shift();
        st.queueSize -= n;
        if (st.closeRequested && st.queue.length === 0) finishClose(st);
        else pullIfNeeded(st);
        return Promise.resolve({ value: chunk, done: false });
      }
      if (st.state === 'closed') return Promise.resolve({ value: undefined, done: true });
      if (st.state === 'errored') return Promise.reject(st.storedError);
      const d = deferred();
      st.reads.push(d);
      pullIfNeeded(st);
      return d.promise;
    }
    releaseLock() {
      const r = this[S];
      if (!r.st) return;
      const e = new TypeError('This ReadableStreamDefaultReader has been released');
      for (const d of r.st.reads) d.reject(e);
      r.st.reads = [];
      if (r.st.state === 'readable') r.closed.reject(e);
      r.st.reader = null;
      r.st = null;
    }
    cancel(reason) {
      const r = this[S];
      if (!r.st) return Promise.reject(new TypeError('This ReadableStreamDefaultReader has been released'));
      return cancelStream(r.st, reason);
    }
    get [Symbol.toStringTag]() { return 'ReadableStreamDefaultReader'; }
  }

  function iterate(stream, preventCancel) {
    const reader = stream.getReader();
    const it = {
      next() {
        return reader.read().then((r) => {
          if (r.done) reader.releaseLock();
          return r;
        });
      },
      return(value) {
        if (!preventCancel) { const p = reader.cancel(value); reader.releaseLock(); return p.then(() => ({ value, done: true })); }
        reader.releaseLock();
        return Promise.resolve({ value, done: true });
      },
    };
    it[Symbol.asyncIterator] = function () { return this; };
    return it;
  }

  function tee(stream) {
    const reader = stream.getReader();
    let canceled = 0;
    let reading = false;
    const branches = [];
    const cancelAll = deferred();
    const reasons = [];
    function pull() {
      if (reading) return Promise.resolve();
      reading = true;
      return reader.read().then((r) => {
        reading = false;
        for (const b of branches) {
          if (b.canceled) continue;
          if (r.done) b.c.close();
          else b.c.enqueue(r.value);
        }
      }, (e) => { for (const b of branches) b.c.error(e); });
    }
    for (let i = 0; i < 2; i++) {
      const b = { canceled: false, c: null };
      branches.push(b);
      b.stream = new ReadableStream({
        start(c) { b.c = c; },
        pull,
        cancel(reason) {
          b.canceled = true;
          reasons[i] = reason;
          if (++canceled === 2) cancelAll.resolve(reader.cancel(reasons));
          return cancelAll.promise;
        },
      }, { highWaterMark: 0 });
    }
    return [branches[0].stream, branches[1].stream];
  }

  function pipeTo(source, dest, options) {
    if (!(source instanceof ReadableStream)) return Promise.reject(new TypeError('pipeTo needs a ReadableStream'));
    if (!(dest instanceof WritableStream)) return Promise.reject(new TypeError('pipeTo needs a WritableStream'));
    const reader = source.getReader();
    const writer = dest.getWriter();
    const signal = options.signal;
    return new Promise((resolve, reject) => {
      let done = false;
      function finish(err, isErr) {
        if (done) return;
        done = true;
        reader.releaseLock();
        writer.releaseLock();
        if (isErr) reject(err); else resolve(undefined);
      }
      if (signal) {
        const onAbort = () => {
          const reason = signal.reason;
          const acts = [];
          if (!options.preventAbort) acts.push(writer.abort(reason));
          if (!options.preventCancel) acts.push(reader.cancel(reason));
          Promise.all(acts).then(() => finish(reason, true), (e) => finish(e, true));
        };
        if (signal.aborted) { onAbort(); return; }
        signal.addEventListener('abort', onAbort);
      }
      function step() {
        if (done) return;
        writer.ready.then(() => reader.read()).then((r) => {
          if (r.done) {
            if (options.preventClose) return finish(undefined, false);
            return writer.close().then(() => finish(undefined, false), (e) => finish(e, true));
          }
          return writer.write(r.value).then(step, (e) => {
            if (!options.preventCancel) silence(reader.cancel(e));
            finish(e, true);
          });
        }, (e) => {
          if (!options.preventAbort) silence(writer.abort(e));
          finish(e, true);
        });
      }
      step();
    });
  }

  // ---------------------------------------------------------------- Writable
  class WritableStreamDefaultController {
    constructor() { throw new TypeError('Illegal constructor'); }
    error(e) { errorWritable(this[S], e); }
    get signal() { return this[S].abort.signal; }
    get [Symbol.toStringTag]() { return 'WritableStreamDefaultController'; }
  }

  function errorWritable(st, e) {
    if (st.state === 'errored' || st.state === 'closed') return;
    st.state = 'errored';
    st.storedError = e;
    for (const w of st.queue) w.reject(e);
    st.queue = [];
    if (st.closeReq) { st.closeReq.reject(e); st.closeReq = null; }
    if (st.writer) {
      const ws = st.writer[S];
      silence(ws.closed.promise);
      ws.closed.reject(e);
      if (ws.readyPending) { silence(ws.ready.promise); ws.ready.reject(e); ws.readyPending = false; } else { ws.ready = deferred(); silence(ws.ready.promise); ws.ready.reject(e); }
    }
  }

  function writableDesired(st) {
    if (st.state !== 'writable') return st.state === 'errored' ? null : 0;
    return st.hwm - st.queueSize;
  }

  function updateReady(st) {
    if (!st.writer || st.state !== 'writable') return;
    const ws = st.writer[S];
    const wantWait = writableDesired(st) <= 0;
    if (wantWait && !ws.readyPending) { ws.ready = deferred(); ws.readyPending = true; }
    if (!wantWait && ws.readyPending) { ws.ready.resolve(undefined); ws.readyPending = false; }
  }

  function processWrites(st) {
    if (!st.started || st.inFlight || st.state === 'errored') return;
    if (st.queue.length === 0) {
      if (st.closeReq) {
        st.inFlight = true;
        const cr = st.closeReq;
        promiseCall(st.sink, 'close', []).then(() => {
          st.inFlight = false;
          st.state = 'closed';
          cr.resolve(undefined);
          if (st.writer) st.writer[S].closed.resolve(undefined);
        }, (e) => { st.inFlight = false; errorWritable(st, e); });
      }
      return;
    }
    const w = st.queue[0];
    st.inFlight = true;
    promiseCall(st.sink, 'write', [w.chunk, st.controller]).then(() => {
      st.inFlight = false;
      st.queue.shift();
      st.queueSize -= w.size;
      w.resolve(undefined);
      updateReady(st);
      processWrites(st);
    }, (e) => { st.inFlight = false; errorWritable(st, e); });
  }

  class WritableStream {
    constructor(sink, strategy) {
      if (sink === null) throw new TypeError('underlyingSink must not be null');
      sink = sink === undefined ? {} : sink;
      if (sink.type !== undefined) throw new RangeError('Invalid type');
      const abort = new AbortController();
      const st = {
        state: 'writable', queue: [], queueSize: 0, sink, writer: null, started: false, inFlight: false,
        closeReq: null, storedError: undefined, hwm: hwmOf(strategy, 1), size: sizeOf(strategy), abort,
      };
      const c = Object.create(WritableStreamDefaultController.prototype);
      c[S] = st;
      st.controller = c;
      this[S] = st;
      promiseCall(sink, 'start', [c]).then(() => { st.started = true; processWrites(st); }, (e) => errorWritable(st, e));
    }
    get locked() { return this[S].writer !== null; }
    getWriter() { return new WritableStreamDefaultWriter(this); }
    close() {
      if (this[S].writer) return Promise.reject(new TypeError('Cannot close a stream locked to a writer'));
      return closeWritable(this[S]);
    }
    abort(reason) {
      if (this[S].writer) return Promise.reject(new TypeError('Cannot abort a stream locked to a writer'));
      return abortWritable(this[S], reason);
    }
    get [Symbol.toStringTag]() { return 'WritableStream'; }
  }

  function closeWritable(st) {
    if (st.state === 'closed' || st.closeReq) return Promise.reject(new TypeError('The stream is closing or closed'));
    if (st.state === 'errored') return Promise.reject(st.storedError);
    st.closeReq = deferred();
    const p = st.closeReq.promise;
    processWrites(st);
    return p;
  }

  function abortWritable(st, reason) {
    if (st.state === 'closed' || st.state === 'errored') return Promise.resolve(undefined);
    st.abort.abort(reason);
    errorWritable(st, reason);
    return promiseCall(st.sink, 'abort', [reason]).then(() => undefined);
  }

  class WritableStreamDefaultWriter {
    constructor(stream) {
      if (!(stream instanceof WritableStream)) throw new TypeError('WritableStreamDefaultWriter needs a WritableStream');
      const st = stream[S];
      if (st.writer) throw new TypeError('This WritableStream is currently locked to a writer.');
      st.writer = this;
      const closed = deferred();
      silence(closed.promise);
      this[S] = { st, closed, ready: deferred(), readyPending: false };
      if (st.state === 'writable' && writableDesired(st) > 0) this[S].ready.resolve(undefined);
      else if (st.state === 'writable') this[S].readyPending = true;
      else if (st.state === 'closed') { this[S].ready.resolve(undefined); closed.resolve(undefined); }
      else { silence(this[S].ready.promise); this[S].ready.reject(st.storedError); closed.reject(st.storedError); }
    }
    get closed() { return this[S].closed.promise; }
    get ready() { return this[S].ready.promise; }
    get desiredSize() {
      if (!this[S].st) throw new TypeError('This writer has been released');
      return writableDesired(this[S].st);
    }
    write(chunk) {
      const st = this[S].st;
      if (!st) return Promise.reject(new TypeError('This writer has been released'));
      if (st.state === 'errored') return Promise.reject(st.storedError);
      if (st.state === 'closed' || st.closeReq) return Promise.reject(new TypeError('Cannot write to a closing or closed stream'));
      let size;
      try { size = st.size(chunk); } catch (e) { errorWritable(st, e); return Promise.reject(e); }
      const d = deferred();
      d.chunk = chunk;
      d.size = size;
      st.queue.push(d);
      st.queueSize += size;
      updateReady(st);
      processWrites(st);
      return d.promise;
    }
    close() {
      const st = this[S].st;
      if (!st) return Promise.reject(new TypeError('This writer has been released'));
      return closeWritable(st);
    }
    abort(reason) {
      const st = this[S].st;
      if (!st) return Promise.reject(new TypeError('This writer has been released'));
      return abortWritable(st, reason);
    }
    releaseLock() {
      const ws = this[S];
      if (!ws.st) return;
      ws.st.writer = null;
      ws.st = null;
    }
    get [Symbol.toStringTag]() { return 'WritableStreamDefaultWriter'; }
  }

  // ---------------------------------------------------------------- Transform
  class TransformStreamDefaultController {
    constructor() { throw new TypeError('Illegal constructor'); }
    get desiredSize() { return this[S].rc.desiredSize; }
    enqueue(chunk) {
      const t = this[S];
      t.rc.enqueue(chunk);
      // Backpressure: the writable side waits until the readable side
      // wants more (a pending read, or room under its high-water mark).
      const st = t.rs[S];
      setBackpressure(t, !(st.reads.length > 0 || desiredSize(st) > 0));
    }
    error(e) { this[S].rc.error(e); errorWritable(this[S].ws[S], e); }
    terminate() {
      const t = this[S];
      try { t.rc.close(); } catch (e) { /* already closed */ }
      errorWritable(t.ws[S], new TypeError('The transform stream has been terminated'));
    }
    get [Symbol.toStringTag]() { return 'TransformStreamDefaultController'; }
  }

  function setBackpressure(t, b) {
    if (t.backpressure === b) return;
    if (b) t.change = deferred();
    else t.change.resolve();
    t.backpressure = b;
  }

  class TransformStream {
    constructor(transformer, writableStrategy, readableStrategy) {
      transformer = transformer === undefined || transformer === null ? {} : transformer;
      if (transformer.readableType !== undefined || transformer.writableType !== undefined) throw new RangeError('Invalid type');
      const t = { rc: null, rs: null, ws: null, backpressure: true, change: deferred() };
      const tc = Object.create(TransformStreamDefaultController.prototype);
      tc[S] = t;
      const started = deferred();
      const readable = new ReadableStream({
        start(c) { t.rc = c; return started.promise; },
        pull() { setBackpressure(t, false); },
        cancel(reason) {
          errorWritable(t.ws[S], reason);
          return call(transformer, 'cancel', [reason]);
        },
      }, { highWaterMark: hwmOf(readableStrategy, 0), size: readableStrategy && readableStrategy.size });
      const writable = new WritableStream({
        start() { return started.promise; },
        write(chunk) {
          const go = () => {
            if (transformer.transform === undefined) { tc.enqueue(chunk); return undefined; }
            return call(transformer, 'transform', [chunk, tc]);
          };
          return t.backpressure ? t.change.promise.then(go) : go();
        },
        close() {
          return promiseCall(transformer, 'flush', [tc]).then(() => { try { t.rc.close(); } catch (e) { /* closed */ } },
            (e) => { t.rc.error(e); throw e; });
        },
        abort(reason) { t.rc.error(reason); return call(transformer, 'cancel', [reason]); },
      }, writableStrategy);
      t.rs = readable;
      t.ws = writable;
      this[S] = { readable, writable };
      promiseCall(transformer, 'start', [tc]).then(() => started.resolve(), (e) => { started.reject(e); });
    }
    get readable() { return this[S].readable; }
    get writable() { return this[S].writable; }
    get [Symbol.toStringTag]() { return 'TransformStream'; }
  }

  class IdentityTransformStream extends TransformStream {
    constructor() {
      super({
        transform(chunk, c) {
          if (!(chunk instanceof ArrayBuffer) && !ArrayBuffer.isView(chunk)) {
            throw new TypeError('This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side.');
          }
          c.enqueue(chunk instanceof ArrayBuffer ? new Uint8Array(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        },
      });
    }
  }

  class TextEncoderStream extends TransformStream {
    constructor() {
      const enc = new TextEncoder();
      let pending = '';
      super({
        transform(chunk, c) {
          let s = pending + String(chunk);
          pending = '';
          const last = s.charCodeAt(s.length - 1);
          if (last >= 0xd800 && last <= 0xdbff) { pending = s.slice(-1); s = s.slice(0, -1); }
          if (s.length > 0) c.enqueue(enc.encode(s));
        },
        flush(c) { if (pending) c.enqueue(enc.encode(pending)); },
      });
    }
    get encoding() { return 'utf-8'; }
  }

  class TextDecoderStream extends TransformStream {
    constructor(label, options) {
      const dec = new TextDecoder(label, options);
      super({
        transform(chunk, c) { const s = dec.decode(chunk, { stream: true }); if (s) c.enqueue(s); },
        flush(c) { const s = dec.decode(); if (s) c.enqueue(s); },
      });
      this[D] = dec;
    }
    get encoding() { return this[D].encoding; }
    get fatal() { return this[D].fatal; }
    get ignoreBOM() { return this[D].ignoreBOM; }
  }

  class ByteLengthQueuingStrategy {
    constructor(init) { this[S] = Number(init.highWaterMark); }
    get highWaterMark() { return this[S]; }
    get size() { return (chunk) => chunk.byteLength; }
  }

  class CountQueuingStrategy {
    constructor(init) { this[S] = Number(init.highWaterMark); }
    get highWaterMark() { return this[S]; }
    get size() { return () => 1; }
  }

  // ---------------------------------------------------------------- for Go
  function toBytes(chunk) {
    if (chunk instanceof Uint8Array) return chunk;
    if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
    if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    throw new TypeError('This ReadableStream did not return bytes.');
  }

  function fromBytes(bytes) {
    return new ReadableStream({
      type: 'bytes',
      start(c) { if (bytes.byteLength > 0) c.enqueue(bytes); c.close(); },
    });
  }

  function fromPull(pull, cancel) {
    return new ReadableStream({
      type: 'bytes',
      pull(c) { return pull().then((chunk) => (chunk === undefined ? c.close() : c.enqueue(chunk))); },
      cancel() { cancel(); },
    });
  }

  function readAll(stream) {
    const reader = stream.getReader();
    const chunks = [];
    let total = 0;
    function next() {
      return reader.read().then((r) => {
        if (r.done) {
          reader.releaseLock();
          const out = new Uint8Array(total);
          let off = 0;
          for (const c of chunks) { out.set(c, off); off += c.byteLength; }
          return out;
        }
        const b = toBytes(r.value);
        chunks.push(b);
        total += b.byteLength;
        return next();
      });
    }
    return next();
  }

  // reader returns a function that reads the next chunk as bytes
  // (undefined at the end), for Go's response writer.
  function reader(stream) {
    const r = stream.getReader();
    const read = () => r.read().then((x) => (x.done ? undefined : toBytes(x.value)));
    read.cancel = (reason) => { silence(r.cancel(reason)); };
    return read;
  }

  function isStream(v) { return v instanceof ReadableStream; }
  function isLocked(s) { return s[S].reader !== null; }
  function isDisturbed(s) { return s[S].disturbed; }
  function markDisturbed(s) { s[S].disturbed = true; }
  function teeStream(s) { return s.tee(); }

  return {
    ReadableStream, ReadableStreamDefaultReader, ReadableStreamDefaultController,
    WritableStream, WritableStreamDefaultWriter, WritableStreamDefaultController,
    TransformStream, TransformStreamDefaultController, IdentityTransformStream,
    TextEncoderStream, TextDecoderStream, ByteLengthQueuingStrategy, CountQueuingStrategy,
    ReadableStreamBYOBReader: thrower('ReadableStreamBYOBReader'),
    ReadableByteStreamController: thrower('ReadableByteStreamController'),
    fromBytes, fromPull, readAll, reader, isStream, isLocked, isDisturbed, markDisturbed, tee: teeStream,
  };
})
