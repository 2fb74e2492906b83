// Shared internals of the wisp JavaScript prelude. Every file in this
// folder is concatenated (in name order) into one function body that
// receives `host` (Go functions) and returns the internals Go needs.
'use strict';
const kStatus = Symbol('status');
const kStatusText = Symbol('statusText');
const kHeaders = Symbol('headers');
const kHeaderSrc = Symbol('headerSource');
const kList = Symbol('list');
const kGuard = Symbol('guard');
const kBody = Symbol('body');
const kBodyUsed = Symbol('bodyUsed');
const kCType = Symbol('contentType');
const kMethod = Symbol('method');
const kURL = Symbol('url');
const kURLObj = Symbol('urlObject');
const kType = Symbol('type');
const kRedirect = Symbol('redirect');
const kSignal = Symbol('signal');
const kHandle = Symbol('handle');
const kParams = Symbol('params');
const kWaitUntil = Symbol('waitUntil');

function defineGlobal(name, value) {
  Object.defineProperty(globalThis, name, { value, writable: true, configurable: true, enumerable: false });
}

function isBufferSource(v) {
  return v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

// toBytes copies a BufferSource into a fresh Uint8Array.
function toBytes(v) {
  if (v instanceof ArrayBuffer) return new Uint8Array(v.slice(0));
  return new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength));
}

function webidlString(v) {
  if (typeof v === 'symbol') throw new TypeError('Cannot convert a Symbol value to a string');
  return String(v);
}
