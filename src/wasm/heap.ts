// A first-fit allocator over one WebAssembly.Memory, kept on the JavaScript side (the kernels
// never allocate). Blocks are 64-byte aligned (a cache line) and carry 64 bytes of slack after
// them, so a kernel's 16-byte loads of a tail never touch the next block. Free blocks are kept
// sorted by address and merged with their neighbours; the memory grows when nothing fits.

const ALIGN = 64;
const PAGE = 65536;
/** Where allocations start: the low 64 KiB stay free (address 0 means "no pointer" to kernels). */
const BASE = PAGE;

export class OutOfWasmMemory extends Error {}

interface Block {
  start: number;
  size: number;
}

export class Heap {
  private readonly free: Block[] = [];
  private top = BASE;
  private readonly sizes = new Map<number, number>();
  /** Bytes handed out and not yet freed. */
  used = 0;

  constructor(
    readonly memory: WebAssembly.Memory,
    /** Largest size the memory may reach (bytes). */
    readonly limit: number,
  ) {}

  /** Bytes that can still be allocated without exceeding the limit (ignoring fragmentation). */
  get available(): number {
    return this.limit - this.top + this.free.reduce((a, b) => a + b.size, 0);
  }

  alloc(bytes: number): number {
    const size = Math.ceil((bytes + ALIGN) / ALIGN) * ALIGN;
    for (let i = 0; i < this.free.length; i++) {
      const b = this.free[i]!;
      if (b.size < size) continue;
      const ptr = b.start;
      if (b.size === size) this.free.splice(i, 1);
      else {
        b.start += size;
        b.size -= size;
      }
      return this.hand(ptr, size);
    }
    const ptr = this.top;
    if (ptr + size > this.limit) throw new OutOfWasmMemory(`cannot allocate ${bytes} bytes: ${this.used} of ${this.limit} in use`);
    this.top += size;
    const have = this.memory.buffer.byteLength;
    if (this.top > have) this.memory.grow(Math.ceil((this.top - have) / PAGE));
    return this.hand(ptr, size);
  }

  private hand(ptr: number, size: number): number {
    this.sizes.set(ptr, size);
    this.used += size;
    return ptr;
  }

  freeBlock(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`free of unknown block ${ptr}`);
    this.sizes.delete(ptr);
    this.used -= size;
    // Insert sorted, then merge with the neighbours; a block that ends at the top lowers it.
    let i = 0;
    while (i < this.free.length && this.free[i]!.start < ptr) i++;
    this.free.splice(i, 0, { start: ptr, size });
    const next = this.free[i + 1];
    const cur = this.free[i]!;
    if (next !== undefined && cur.start + cur.size === next.start) {
      cur.size += next.size;
      this.free.splice(i + 1, 1);
    }
    const prev = this.free[i - 1];
    if (prev !== undefined && prev.start + prev.size === cur.start) {
      prev.size += cur.size;
      this.free.splice(i, 1);
    }
    const last = this.free[this.free.length - 1];
    if (last !== undefined && last.start + last.size === this.top) {
      this.top = last.start;
      this.free.pop();
    }
  }
}
