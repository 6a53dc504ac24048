// The WebAssembly runtime behind the backend: shards (memories), the thread pool, weights placed
// once in wasm memory, and per-op marshalling of activations.
//
// Where a tensor lives decides what an op costs. Weights are copied into a shard the first time
// an op sees them and stay there (keyed by their typed array; freed when it is collected).
// Activations allocated by the backend (allocate(): the KV cache, the model's buffers) already
// live in shard 0 and are passed by pointer; any other activation is copied into the op's
// scratch space and, for outputs, copied back afterwards.

import { InputError } from '../errors.js';
import type { F32Tensor, Tensor } from '../tensor.js';
import { numel } from '../tensor.js';
import { OutOfWasmMemory } from './heap.js';
import { ThreadPool } from './pool.js';
import { Shard, SHARD_LIMIT } from './shard.js';

export interface RuntimeOptions {
  threads: number;
  /** Which build `module` is: kernels with a relaxed-SIMD variant use it in the 'relaxed' build. */
  flavor?: 'simd' | 'relaxed';
  /** Bytes per shard (tests use small shards to exercise spreading); default just under 4 GiB. */
  shardLimit?: number;
}

type Placed = Map<string, { shard: number; ptr: number }>;

export class WasmRuntime {
  readonly shards: Shard[] = [];
  readonly pool: ThreadPool;
  private readonly names: string[];
  private readonly index = new Map<string, number>();
  private readonly placed = new WeakMap<object, Placed>();
  private readonly freeing = new FinalizationRegistry<{ shard: number; ptr: number }>((h) => this.shards[h.shard]?.heap.freeBlock(h.ptr));
  private readonly shardLimit: number;
  /**
   * Bytes kept free in each shard for what ops will later place beside a weight adopted there:
   * an int4 qweight's kernels need its scale tables as f32 in the same memory (ops_matmul_q4.ts
   * placeQ4: groups·n·8 bytes, 16/G of the qweight's bytes). Without it, a shard filled by
   * adopt() at load time has no room for them at the first matmul (a 13B AWQ model failed so).
   */
  private readonly promised = new Map<number, number>();
  readonly flavor: 'simd' | 'relaxed';

  constructor(
    private readonly module: WebAssembly.Module,
    opts: RuntimeOptions,
  ) {
    this.names = WebAssembly.Module.exports(module)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
    this.names.forEach((n, i) => this.index.set(n, i));
    this.shardLimit = opts.shardLimit ?? SHARD_LIMIT;
    this.flavor = opts.flavor ?? 'simd';
    this.pool = new ThreadPool(module, { threads: opts.threads });
    this.addShard();
  }

  get threads(): number {
    return this.pool.threads;
  }

  private addShard(): Shard {
    const s = new Shard(this.shards.length, this.module, this.names, this.shardLimit);
    this.shards.push(s);
    this.pool.attach(s.memory);
    return s;
  }

  /** Run a kernel export over `units` work units, split across threads when `work` (flops) is worth it. */
  exec(shard: Shard, fn: string, args: number[], units: number, grain = 1, work = Infinity): void {
    const i = this.index.get(fn);
    if (i === undefined) throw new Error(`the WebAssembly build has no export '${fn}' (rebuild with npm run build)`);
    this.pool.run(shard.fns[i]!, i, shard.index, args, units, grain, work >= 200_000);
  }

  /**
   * A zero-filled f32 tensor in wasm memory, freed when the tensor's array is collected: in
   * shard 0 (where weights leave a quarter free for activations), else the first with room.
   */
  allocate(shape: readonly number[]): F32Tensor {
    const n = numel(shape);
    for (const s of [...this.shards, undefined]) {
      const shard = s ?? this.addShard();
      if (shard.heap.available < n * 4 + 128) continue;
      let ptr: number;
      try {
        ptr = shard.heap.alloc(n * 4);
      } catch (e) {
        if (e instanceof OutOfWasmMemory) continue;
        throw e;
      }
      const data = shard.f32(ptr, n);
      data.fill(0);
      this.freeing.register(data, { shard: shard.index, ptr });
      return { dtype: 'f32', shape: [...shape], data };
    }
    throw new OutOfWasmMemory(`cannot allocate ${n} floats in any WebAssembly memory`);
  }

  /**
   * The first shard with room for a weight of `bytes`, or a new one. Each shard keeps room for
   * its op scratch (activations copied in, quantized rows, widened weight panels: a quarter, at
   * most 64 MiB), and shard 0 another quarter
   * for the activations and KV cache that allocate() puts there.
   */
  private shardWithRoom(bytes: number): Shard {
    const reserve = (s: Shard): number => Math.min(1 << 26, this.shardLimit / 4) + (s.index === 0 ? this.shardLimit / 4 : 0);
    return this.shards.find((s) => s.heap.available - (this.promised.get(s.index) ?? 0) >= bytes + reserve(s)) ?? this.addShard();
  }

  /** The shard holding `a` (a weight placed before, or an array allocated in wasm memory). */
  whereIs(a: ArrayBufferView): Shard | undefined {
    const p = this.placed.get(a);
    if (p !== undefined) for (const v of p.values()) return this.shards[v.shard];
    return this.shards.find((s) => s.owns(a));
  }

  /**
   * The pointer of a weight's bytes in `shard` (`variant` names a conversion made at upload,
   * e.g. 'f32'), uploading it with `write` the first time. Without a shard, the weight goes to
   * the first shard with room (a new one when none has).
   */
  place(key: object, variant: string, bytes: number, write: (dst: Uint8Array) => void, shard?: Shard): { shard: Shard; ptr: number } {
    let p = this.placed.get(key);
    if (p === undefined) {
      p = new Map();
      this.placed.set(key, p);
    }
    for (const [k, v] of p) {
      if (k.endsWith(`:${variant}`) && (shard === undefined || v.shard === shard.index)) return { shard: this.shards[v.shard]!, ptr: v.ptr };
    }
    const target = shard ?? this.shardWithRoom(bytes);
    let ptr: number;
    try {
      ptr = target.heap.alloc(bytes);
    } catch (e) {
      if (!(e instanceof OutOfWasmMemory) || shard !== undefined) throw e;
      return this.place(key, variant, bytes, write, this.addShard());
    }
    write(target.bytes(ptr, bytes));
    if (shard !== undefined) this.promised.set(shard.index, Math.max(0, (this.promised.get(shard.index) ?? 0) - bytes));
    p.set(`${target.index}:${variant}`, { shard: target.index, ptr });
    this.freeing.register(key, { shard: target.index, ptr });
    return { shard: target, ptr };
  }

  /**
   * `t` with its data copied into a shard (first fit) and served from there: the returned
   * tensor's array is a view of wasm memory, registered as placed, so ops use it in place.
   */
  adopt<T extends Tensor>(t: T): T {
    if (this.whereIs(t.data) !== undefined) return t;
    const src = rawBytes(t);
    // int16 weights are packed int4 (TinyChat v2 qweight): keep room for their f32 scale tables
    // (16/G of their bytes; G ≥ 64 for the kernel, so a quarter).
    const derived = t.dtype === 'i16' ? Math.ceil(src.byteLength / 4) : 0;
    const target = this.shardWithRoom(src.byteLength + derived);
    const ptr = target.heap.alloc(src.byteLength);
    if (derived > 0) this.promised.set(target.index, (this.promised.get(target.index) ?? 0) + derived);
    target.bytes(ptr, src.byteLength).set(src);
    const C = t.data.constructor as new (b: ArrayBufferLike, off: number, len: number) => Tensor['data'];
    const data = new C(target.buffer, ptr, t.data.length);
    // The view is the weight now: registered as placed (ops use it in place), its block freed
    // when the view is collected; the caller's array is no longer referenced from here.
    this.placed.set(data, new Map([[`${target.index}:raw`, { shard: target.index, ptr }]]));
    this.freeing.register(data, { shard: target.index, ptr });
    return { ...t, data };
  }

  close(): void {
    this.pool.close();
  }
}

/** The raw bytes of a tensor's data. */
export function rawBytes(t: Tensor | { data: ArrayBufferView }): Uint8Array {
  const d = t.data;
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Check that a typed array holds `n` elements (a kernel would otherwise read past it). */
export function expectElements(op: string, arg: string, a: { length: number }, n: number): void {
  if (a.length !== n) throw new InputError(`${op}: ${arg} has ${a.length} elements, expected ${n}`);
}
