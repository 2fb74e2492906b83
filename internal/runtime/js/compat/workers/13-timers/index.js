// Timers and microtasks: ordering, intervals, arguments, clearing.
export default {
  async fetch() {
    const log = [];
    await new Promise((resolve) => {
      // Deadlines at least 10 ms apart, so the order does not depend on
      // how busy the machine is.
      setTimeout(() => log.push('timeout 90'), 90);
      setTimeout(() => log.push('timeout 0'), 0);
      setTimeout((a, b) => log.push(`args ${a}+${b}`), 50, 'x', 'y');
      const cancel = setTimeout(() => log.push('cancelled'), 10);
      clearTimeout(cancel);
      Promise.resolve().then(() => log.push('micro 1'));
      queueMicrotask(() => log.push('micro 2'));
      log.push('sync');
      let n = 0;
      const id = setInterval(() => {
        n++;
        log.push('tick ' + n);
        if (n === 3) {
          clearInterval(id);
          setTimeout(resolve, 40);
        }
      }, 20);
    });
    const ids = [setTimeout(() => {}, 1), setTimeout(() => {}, 1)];
    const started = Date.now();
    await new Promise((r) => setTimeout(r, 50));
    log.push(typeof ids[0], ids[1] > ids[0], Date.now() - started >= 0);
    await scheduler.wait(1);
    log.push('waited');
    return Response.json(log);
  },
};
