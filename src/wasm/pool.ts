// Threads for the WebAssembly kernels: worker_threads that instantiate the same module over the
// same shared memories, woken through Atomics on a small control block (no message per op).
// The calling thread takes part 0 of every op itself and then waits for the others. An op's
// work units are split into contiguous ranges, one per thread; every kernel computes each output
// from its own inputs in a fixed order, so the thread count never changes a result.

import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { WORKER_SOURCE } from './worker_source.js';

// Control block (Int32Array) slots.
const GEN = 0; // bumped by the caller to start an op
const DONE = 1; // incremented by each worker when its part is finished
const FN = 2; // export index; -1 = attach the memory waiting on the port; -2 = exit
const SHARD = 3;
const NARGS = 4;
const ERROR = 5;
const RANGES = 16; // [start, end) of thread t at RANGES + 2t
const MAX_THREADS = 64;

export interface PoolOptions {
  threads: number;
  /** Iterations a waiting thread spins on the control block before it sleeps. */
  spin?: number;
}

export class ThreadPool {
  readonly threads: number;
  private readonly ctl: Int32Array;
  private readonly args: Float64Array;
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private readonly spin: number;
  private closed = false;

  constructor(module: WebAssembly.Module, opts: PoolOptions) {
    this.threads = Math.max(1, Math.min(MAX_THREADS, Math.floor(opts.threads)));
    this.spin = opts.spin ?? 20000;
    this.ctl = new Int32Array(new SharedArrayBuffer(4 * (RANGES + 2 * MAX_THREADS)));
    this.args = new Float64Array(new SharedArrayBuffer(8 * 32));
    for (let t = 1; t < this.threads; t++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { module, ctlBuf: this.ctl.buffer, argBuf: this.args.buffer, port: port2, index: t, spin: this.spin },
        transferList: [port2],
      });
      // A pool must never keep the process alive, nor take it down with an unhandled event.
      worker.unref();
      worker.on('error', () => {});
      this.workers.push(worker);
      this.ports.push(port1);
    }
  }

  /** Give every worker one more memory (a new shard); index order = shard order. */
  attach(memory: WebAssembly.Memory): void {
    if (this.workers.length === 0) return;
    for (const p of this.ports) p.postMessage({ memory });
    this.dispatch(-1, 0, [], []);
  }

  /**
   * Run export `fn` of shard `shard` with `args` followed by each thread's [start, end) of
   * `units` work units; range boundaries fall on multiples of `grain`. `local` is the calling
   * thread's own instance of the export.
   */
  run(local: (...a: number[]) => void, fn: number, shard: number, args: number[], units: number, grain: number, parallel: boolean): void {
    const parts = parallel ? Math.min(this.threads, Math.ceil(units / grain)) : 1;
    if (parts <= 1) {
      local(...args, 0, units);
      return;
    }
    const bounds: number[] = [];
    for (let t = 0; t <= this.threads; t++) {
      const b = t >= parts ? units : Math.min(units, Math.round((units * t) / parts / grain) * grain);
      bounds.push(t === 0 ? 0 : b);
    }
    const ranges: number[] = [];
    for (let t = 0; t < this.threads; t++) ranges.push(bounds[t]!, bounds[t + 1]!);
    this.dispatch(fn, shard, args, ranges);
    if (bounds[0]! < bounds[1]!) local(...args, bounds[0]!, bounds[1]!);
    this.wait();
  }

  private dispatch(fn: number, shard: number, args: number[], ranges: number[]): void {
    if (this.closed) throw new Error('thread pool is closed');
    const c = this.ctl;
    for (let i = 0; i < args.length; i++) this.args[i] = args[i]!;
    for (let i = 0; i < ranges.length; i++) c[RANGES + i] = ranges[i]!;
    c[FN] = fn;
    c[SHARD] = shard;
    c[NARGS] = args.length;
    Atomics.store(c, ERROR, 0);
    Atomics.store(c, DONE, 0);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
    if (fn < 0) this.wait();
  }

  private wait(): void {
    const c = this.ctl;
    const want = this.workers.length;
    let done = Atomics.load(c, DONE);
    for (let i = 0; done < want && i < this.spin; i++) done = Atomics.load(c, DONE);
    while (done < want) {
      Atomics.wait(c, DONE, done, 1000);
      done = Atomics.load(c, DONE);
    }
    if (Atomics.load(c, ERROR) !== 0) throw new Error('a WebAssembly kernel failed in a worker thread (out-of-bounds access or trap)');
  }

  close(): void {
    if (this.closed) return;
    this.dispatch(-2, 0, [], []);
    this.closed = true;
    for (const w of this.workers) void w.terminate();
  }
}
