// One shard = one shared WebAssembly.Memory (at most 4 GiB: wasm32), the kernels instantiated
// over it on this thread, and its allocator. A model larger than one memory spreads its weights
// over several shards; activations cross between them by copy (they are small).

import { Heap } from './heap.js';

/** Where wasm/matmul_q4.ts reads its mask vectors (below the heap, which starts at 64 KiB). */
const KERNEL_CONSTS = 0x400;

function writeKernelConstants(u: Uint16Array): void {
  u.fill(0x000f, 0, 8);
  u.fill(0x00f0, 8, 16);
  u.fill(0x0f0f, 16, 24); // byte mask 0x0F (the relaxed build's int8 path)
}

export const SHARD_LIMIT = 4 * 1024 ** 3 - 65536; // 65535 pages: V8's largest wasm32 memory

export class Shard {
  readonly memory: WebAssembly.Memory;
  readonly heap: Heap;
  readonly fns: ((...a: number[]) => void)[];
  /** Every ArrayBuffer object this memory has shown (a new one after each grow). */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private scratchPtr = 0;
  private scratchSize = 0;
  private scratchTop = 0;

  constructor(
    readonly index: number,
    module: WebAssembly.Module,
    readonly names: readonly string[],
    limit = SHARD_LIMIT,
  ) {
    this.memory = new WebAssembly.Memory({ initial: 17, maximum: Math.floor(limit / 65536), shared: true });
    const inst = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.fns = names.map((n) => inst.exports[n] as (...a: number[]) => void);
    this.heap = new Heap(this.memory, limit);
    writeKernelConstants(new Uint16Array(this.memory.buffer, KERNEL_CONSTS, 24));
  }

  /** The memory's current buffer (registered, so views made on it are known to live here). */
  get buffer(): ArrayBufferLike {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  owns(a: ArrayBufferView): boolean {
    return this.buffers.has(a.buffer);
  }

  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.buffer, ptr, n);
  }

  bytes(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.buffer, ptr, n);
  }

  /** Start an op: scratch space handed out by `scratch()` is reused from the next op on. */
  resetScratch(): void {
    this.scratchTop = 0;
  }

  /** Scratch bytes valid until the next resetScratch(); grows (between ops) when needed. */
  scratch(bytes: number): number {
    const size = Math.ceil(bytes / 64) * 64 + 64;
    if (this.scratchTop + size > this.scratchSize) {
      if (this.scratchTop > 0) {
        // Blocks already handed out in this op stay valid: take a separate block for this one.
        const p = this.heap.alloc(size);
        this.extra.push(p);
        this.extraBytes += size;
        return p;
      }
      if (this.scratchSize > 0) this.heap.freeBlock(this.scratchPtr);
      this.scratchSize = Math.max(size, this.scratchSize * 2, Math.min(1 << 20, this.heap.limit >> 4));
      this.scratchPtr = this.heap.alloc(this.scratchSize);
    }
    const p = this.scratchPtr + this.scratchTop;
    this.scratchTop += size;
    return p;
  }

  private readonly extra: number[] = [];
  private extraBytes = 0;

  /** End an op: blocks taken beyond the scratch area are freed, and the area grows to fit them next time. */
  endOp(): void {
    if (this.extra.length === 0) return;
    for (const p of this.extra) this.heap.freeBlock(p);
    this.heap.freeBlock(this.scratchPtr);
    this.scratchSize = this.scratchTop + this.extraBytes;
    this.scratchPtr = this.heap.alloc(this.scratchSize);
    this.extra.length = 0;
    this.extraBytes = 0;
  }
}
