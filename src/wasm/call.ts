// Marshalling for one op on one shard: activations that already live in the shard pass by
// pointer; others are copied into scratch (inputs before the kernel, outputs back after it).

import type { Shard } from './shard.js';

type Floats = Float32Array | Int32Array;

export class OpCall {
  private readonly seen = new Map<ArrayBufferView, number>();
  private readonly back: [Floats, number][] = [];

  constructor(readonly shard: Shard) {
    shard.resetScratch();
  }

  /** Pointer to an input activation in this shard. */
  in(a: Floats): number {
    if (this.shard.owns(a)) return a.byteOffset;
    let p = this.seen.get(a);
    if (p === undefined) {
      p = this.shard.scratch(a.byteLength);
      this.shard.bytes(p, a.byteLength).set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
      this.seen.set(a, p);
    }
    return p;
  }

  /** Pointer to an output activation; an in-place output must be passed to in() first. */
  out(a: Floats): number {
    if (this.shard.owns(a)) return a.byteOffset;
    let p = this.seen.get(a);
    if (p === undefined) {
      p = this.shard.scratch(a.byteLength);
      this.seen.set(a, p);
    }
    this.back.push([a, p]);
    return p;
  }

  /** Scratch bytes for the kernel's own use. */
  scratch(bytes: number): number {
    return this.shard.scratch(bytes);
  }

  finish(): void {
    for (const [a, p] of this.back) new Uint8Array(a.buffer, a.byteOffset, a.byteLength).set(this.shard.bytes(p, a.byteLength));
    this.shard.endOp();
  }
}
