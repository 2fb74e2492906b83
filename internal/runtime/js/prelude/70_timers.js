// Timers and microtasks run on the instance's event loop (loop.go). A
// timer lives as long as the invocation that set it.
function timerArgs(fn, delay, args) {
  if (typeof fn !== 'function') throw new TypeError('The callback must be a function; strings are not evaluated');
  delay = Number(delay);
  if (!(delay >= 0)) delay = 0;
  return args.length === 0 ? fn : () => fn(...args);
}
defineGlobal('setTimeout', function setTimeout(fn, delay, ...args) { return host.setTimer(timerArgs(fn, delay, args), Number(delay) || 0, false); });
defineGlobal('setInterval', function setInterval(fn, delay, ...args) { return host.setTimer(timerArgs(fn, delay, args), Number(delay) || 0, true); });
defineGlobal('clearTimeout', function clearTimeout(id) { if (id !== undefined && id !== null) host.clearTimer(Number(id)); });
defineGlobal('clearInterval', function clearInterval(id) { if (id !== undefined && id !== null) host.clearTimer(Number(id)); });
defineGlobal('queueMicrotask', function queueMicrotask(fn) {
  if (typeof fn !== 'function') throw new TypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
  Promise.resolve().then(() => fn());
});
