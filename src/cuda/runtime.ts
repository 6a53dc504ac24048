// The CUDA runtime behind the backend: where each op argument lives on the device.
//
// - Activations allocated by the backend (allocate(): DeviceTensor) and views of their host
//   mirrors pass by (handle, byte offset), with no copy.
// - Other activations (plain JavaScript arrays) are uploaded into per-op scratch before the
//   kernel; outputs among them are downloaded afterwards.
// - Weights are uploaded once, keyed by their typed array (adopt() does it at load time; a weight
//   never adopted is uploaded on first use), freed when the array is collected. A variant key
//   names a conversion made at upload ('f32' for a norm whose weight and bias differ in dtype).
// - Host int32 inputs (token ids, positions) go through scratch on every call.
//
// Every addon call is made through `call()`, which turns a failure into a CudaError naming the op.

import { VilaError } from '../errors.js';
import { numel, toF32, type F32Tensor, type Tensor } from '../tensor.js';
import type { CudaAddon, CudaDevice, DeviceHandle } from './addon.js';
import { DeviceStore, DeviceTensor } from './tensor.js';

/** A CUDA call failed: names the op (or memory operation) and carries the CUDA error text. */
export class CudaError extends VilaError {}

/** A device address as the addon takes it. */
export interface Ptr {
  h: DeviceHandle;
  o: number;
}

/** vila_dtype of cuda/include/vila_cuda.h. */
export const VILA_DTYPE: Readonly<Record<string, number>> = { f32: 0, f16: 1, bf16: 2 };

const ALIGN = 256;
/** Most bytes of collected device buffers kept for reuse. */
const POOL_LIMIT = 2 ** 30;

export class CudaRuntime {
  private readonly mirrors = new WeakMap<ArrayBuffer, DeviceStore>();
  private readonly weights = new WeakMap<object, Map<string, DeviceHandle>>();
  /** Scratch for host activations of the current op: one buffer, grown when an op needs more. */
  private scratch: DeviceHandle | undefined;
  private scratchBytes = 0;
  private scratchUsed = 0;
  private extra: DeviceHandle[] = [];
  private extraBytes = 0;
  /** Outputs to bring back after the current op: a host array and its scratch, or a mirror view's store. */
  private back: { host: Float32Array; p: Ptr }[] = [];
  /** Op counter: a store whose `gen` equals it has been prepared (uploaded if host-ahead) for this op. */
  private gen = 0;
  private hostIn = new Map<ArrayBufferView, Ptr>();
  private writtenViews: DeviceStore[] = [];
  private readonly intsCache = new WeakMap<Int32Array, { copy: Int32Array; h: DeviceHandle }>();
  /** Collected buffers by byte size, for reuse (at most POOL_LIMIT bytes held). */
  private readonly pool = new Map<number, DeviceHandle[]>();
  private poolBytes = 0;
  private readonly recycle = new FinalizationRegistry<{ h: DeviceHandle; bytes: number }>(({ h, bytes }) => this.giveBack(h, bytes));
  /** Synchronize after every op (VILA_CUDA_SYNC=1): execution errors then name the right op. */
  readonly syncEachOp = process.env['VILA_CUDA_SYNC'] === '1';
  op = '';

  constructor(
    readonly addon: CudaAddon,
    readonly device: CudaDevice,
  ) {}

  /** Run an addon call outside an op; a failure becomes a CudaError naming `what`. */
  call<T>(what: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw this.wrap(e, what);
    }
  }

  /**
   * An addon error as a CudaError naming the op (or memory operation); typed errors pass. The
   * ops call the addon directly (no closure per call) and the backend's kernel wrapper wraps.
   */
  private readonly wrapError = (e: unknown, what: string): Error => this.wrap(e, what);

  wrap(e: unknown, what: string): Error {
    if (e instanceof VilaError || !(e instanceof Error)) return e as Error;
    return new CudaError(`CUDA ${this.op === '' ? what : `op '${this.op}'`} failed: ${e.message}`, `cuda ${this.device.name}`);
  }

  /** A zero-filled device tensor (its buffer returns to the pool when the tensor is collected). */
  allocate(shape: readonly number[]): DeviceTensor {
    const n = numel(shape);
    const h = this.pooled(n * 4);
    if (n > 0) this.call('memset0', () => this.addon.memset0(h, 0, n * 4));
    const store = new DeviceStore(this.addon, h, n, this.mirrors, this.wrapError);
    this.recycle.register(store, { h, bytes: n * 4 });
    return new DeviceTensor(store, shape, 0);
  }

  /**
   * A device buffer of `bytes` from the pool of collected ones, else a new one. cudaMalloc costs
   * tens of microseconds and cudaFree synchronizes the device, so the model's per-forward
   * buffers (allocate(), ids, positions) are recycled by size instead: reuse is safe because
   * every op and copy is ordered on one stream.
   */
  private pooled(bytes: number): DeviceHandle {
    const list = this.pool.get(bytes);
    const h = list?.pop();
    if (h !== undefined) {
      this.poolBytes -= bytes;
      return h;
    }
    return this.call('alloc', () => this.addon.alloc(bytes));
  }

  private giveBack(h: DeviceHandle, bytes: number): void {
    if (this.poolBytes + bytes > POOL_LIMIT) return; // dropped: the handle's finalizer frees it
    let list = this.pool.get(bytes);
    if (list === undefined) {
      list = [];
      this.pool.set(bytes, list);
    }
    list.push(h);
    this.poolBytes += bytes;
  }

  // --- per op ---------------------------------------------------------------------------------

  begin(op: string): void {
    this.op = op;
    this.gen++;
    this.scratchUsed = 0;
  }

  /** Pointer to an activation the kernel reads (and may write, when `write`). */
  act(t: F32Tensor, write = false): Ptr {
    if (t instanceof DeviceTensor) return this.onDevice(t.store, t.offset * 4, write, false);
    const d = t.data;
    const store = this.mirrors.get(d.buffer as ArrayBuffer);
    if (store !== undefined) return this.onDevice(store, d.byteOffset, write, true);
    let p = this.hostIn.get(d);
    if (p === undefined) {
      p = this.take(d.byteLength);
      this.addon.upload(p.h, p.o, d);
      this.hostIn.set(d, p);
    }
    if (write) this.back.push({ host: d, p });
    return p;
  }

  /** Pointer to an activation the kernel only writes (no upload of a host array). */
  out(t: F32Tensor): Ptr {
    if (t instanceof DeviceTensor || this.mirrors.has(t.data.buffer as ArrayBuffer)) return this.act(t, true);
    const d = t.data;
    let p = this.hostIn.get(d);
    if (p === undefined) {
      p = this.take(d.byteLength);
      this.hostIn.set(d, p);
    }
    this.back.push({ host: d, p });
    return p;
  }

  private onDevice(store: DeviceStore, byteOffset: number, write: boolean, plainView: boolean): Ptr {
    if (store.gen !== this.gen) {
      store.beforeKernel();
      store.gen = this.gen;
    }
    if (write) {
      store.written();
      if (plainView && !this.writtenViews.includes(store)) this.writtenViews.push(store);
    }
    return { h: store.handle, o: byteOffset };
  }

  /**
   * Int32 host values (ids, positions) on the device. The same array seen again with the same
   * contents (the positions of one forward pass, used by every layer's two rope ops) is not
   * uploaded again; a changed array is.
   */
  ints(a: Int32Array): Ptr {
    const c = this.intsCache.get(a);
    if (c !== undefined) {
      // Changed since: upload again into the same buffer (ordered after the kernels that read it).
      let same = true;
      for (let i = 0; i < a.length; i++) {
        if (c.copy[i] !== a[i]) {
          same = false;
          break;
        }
      }
      if (!same) {
        this.addon.upload(c.h, 0, a);
        c.copy.set(a);
      }
      return { h: c.h, o: 0 };
    }
    const bytes = Math.ceil(Math.max(a.byteLength, 4) / ALIGN) * ALIGN;
    const h = this.pooled(bytes);
    this.addon.upload(h, 0, a);
    this.recycle.register(a, { h, bytes });
    this.intsCache.set(a, { copy: a.slice(), h });
    return { h, o: 0 };
  }

  /** After the kernel: host outputs downloaded, mirror views refreshed; then finish(). */
  end(): void {
    if (this.syncEachOp) this.addon.sync();
    for (const { host, p } of this.back) this.addon.download(p.h, p.o, host);
    // A plain view of a mirror that the kernel wrote: JavaScript holds that array, so refresh it.
    for (const s of this.writtenViews) s.host();
    this.finish();
  }

  /** Forget the op's marshalling (also after a failed op); scratch grown if it needed more. */
  finish(): void {
    if (this.back.length > 0) this.back = [];
    if (this.hostIn.size > 0) this.hostIn.clear();
    if (this.writtenViews.length > 0) this.writtenViews = [];
    this.op = '';
    if (this.extra.length > 0) this.growScratch();
  }

  private take(bytes: number): Ptr {
    const size = Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    if (this.scratch !== undefined && this.scratchUsed + size <= this.scratchBytes) {
      const o = this.scratchUsed;
      this.scratchUsed += size;
      return { h: this.scratch, o };
    }
    const h = this.call('alloc scratch', () => this.addon.alloc(size));
    this.extra.push(h);
    this.extraBytes += size;
    return { h, o: 0 };
  }

  /** One scratch buffer large enough for the last op's needs (freed buffers were in stream order). */
  private growScratch(): void {
    const need = this.scratchBytes + this.extraBytes;
    for (const h of this.extra) this.addon.free(h);
    if (this.scratch !== undefined) this.addon.free(this.scratch);
    this.extra = [];
    this.extraBytes = 0;
    this.scratch = undefined;
    this.scratchBytes = 0;
    this.scratch = this.call('alloc scratch', () => this.addon.alloc(need));
    this.scratchBytes = need;
  }

  // --- weights --------------------------------------------------------------------------------

  /**
   * Device copy of a weight's array (uploaded the first time; `variant` 'raw' as stored, 'f32'
   * converted). Device activations passed as weights are used in place.
   */
  weight(t: Tensor, variant: 'raw' | 'f32' = 'raw'): Ptr {
    if (t.dtype === 'f32' && (variant === 'raw' || variant === 'f32')) {
      if (t instanceof DeviceTensor) return this.act(t);
      const store = this.mirrors.get(t.data.buffer as ArrayBuffer);
      if (store !== undefined) return this.act(t as F32Tensor);
    }
    const src = variant === 'f32' && t.dtype !== 'f32' ? () => toF32(t).data : () => t.data;
    return { h: this.placed(t.data, t.dtype === 'f32' ? 'raw' : variant, src), o: 0 };
  }

  /** Device copy of a raw typed array (int4 qweight), uploaded once. */
  placed(key: ArrayBufferView, variant: string, data: () => ArrayBufferView): DeviceHandle {
    let m = this.weights.get(key);
    if (m === undefined) {
      m = new Map();
      this.weights.set(key, m);
    }
    let h = m.get(variant);
    if (h === undefined) {
      const bytes = data();
      const nh = this.call('upload weight', () => this.addon.alloc(bytes.byteLength));
      this.call('upload weight', () => this.addon.upload(nh, 0, bytes));
      m.set(variant, nh);
      h = nh;
    }
    return h;
  }

  sync(): void {
    this.call('sync', () => this.addon.sync());
  }
}
