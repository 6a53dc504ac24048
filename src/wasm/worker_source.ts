// The worker thread's program, kept as source text so that it runs the same from src/ (tests)
// and dist/ (the package): it instantiates the kernels over each shared memory it is given and
// then waits on the control block for ops (see pool.ts for the slots).

export const WORKER_SOURCE = `
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { module, ctlBuf, argBuf, port, index, spin } = workerData;
const ctl = new Int32Array(ctlBuf);
const args = new Float64Array(argBuf);
const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name);
const shards = [];
let seen = 0;
for (;;) {
  let g = Atomics.load(ctl, 0);
  for (let i = 0; g === seen && i < spin; i++) g = Atomics.load(ctl, 0);
  if (g === seen) {
    Atomics.wait(ctl, 0, seen, 1000);
    continue;
  }
  seen = g;
  const fn = ctl[2];
  if (fn === -2) {
    Atomics.add(ctl, 1, 1);
    Atomics.notify(ctl, 1);
    break;
  }
  try {
    if (fn === -1) {
      const msg = receiveMessageOnPort(port);
      const inst = new WebAssembly.Instance(module, { env: { memory: msg.message.memory } });
      shards.push(names.map((n) => inst.exports[n]));
    } else {
      const start = ctl[16 + 2 * index], end = ctl[17 + 2 * index];
      if (start < end) {
        const n = ctl[4];
        const a = new Array(n + 2);
        for (let i = 0; i < n; i++) a[i] = args[i];
        a[n] = start;
        a[n + 1] = end;
        shards[ctl[3]][fn](...a);
      }
    }
  } catch (e) {
    Atomics.store(ctl, 5, 1);
  }
  Atomics.add(ctl, 1, 1);
  Atomics.notify(ctl, 1);
}
`;
