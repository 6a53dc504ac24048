// Activations on the GPU: a DeviceTensor is an F32Tensor whose elements live in a device buffer
// and stay there between ops. JavaScript code that touches `.data` still sees the right numbers:
//
// - Reading `.data` downloads the buffer into a host mirror (once, until a kernel writes the
//   buffer again) and hands out a view of the mirror.
// - Because the caller may write through that view (`h.data.set(embeds.data)`), the buffer is
//   marked host-ahead, and the mirror is uploaded before the next kernel reads or writes it.
// - rows() and reshape() (src/tensor.ts MAKE_VIEW) give DeviceTensors over the same buffer at an
//   element offset, so a KV-cache row range is written in place by the k/v projections.
// - A plain tensor whose array is a view of a mirror (e.g. `{ data: t.data.subarray(a, b) }`,
//   as the op-check harness makes) is recognised by its ArrayBuffer and used in place too; an
//   op writing one downloads it afterwards, since JavaScript holds that array.
//
// Coherence is per buffer (whole-buffer uploads and downloads): fine for the model's use, where
// JavaScript touches small activations (embeddings in, logits out) and never the KV cache.

import type { CudaAddon, DeviceHandle } from './addon.js';
import { MAKE_VIEW, numel, type F32Tensor, type Tensor } from '../tensor.js';

/** One device buffer and its host mirror. */
export class DeviceStore {
  private mirror: Float32Array | undefined;
  /** The mirror (when made, or zeros when not yet) equals the device contents. */
  hostValid = true;
  /** JavaScript may have written the mirror since the last upload. */
  hostAhead = false;
  /** The runtime's op counter when this buffer was last prepared for a kernel. */
  gen = -1;

  constructor(
    readonly addon: CudaAddon,
    readonly handle: DeviceHandle,
    /** f32 elements. */
    readonly length: number,
    private readonly mirrors: WeakMap<ArrayBuffer, DeviceStore>,
    /** Turns an addon error into a typed one (CudaError), naming what failed. */
    private readonly wrap: (e: unknown, what: string) => Error = (e) => e as Error,
  ) {}

  /** The host mirror, current, handed out to JavaScript (so marked host-ahead). */
  host(): Float32Array {
    if (this.mirror === undefined) {
      this.mirror = new Float32Array(this.length);
      this.mirrors.set(this.mirror.buffer as ArrayBuffer, this);
    }
    if (!this.hostValid) {
      try {
        this.addon.download(this.handle, 0, this.mirror);
      } catch (e) {
        // Kernels run asynchronously: an op's execution error surfaces here.
        throw this.wrap(e, 'download of a device tensor');
      }
      this.hostValid = true;
    }
    this.hostAhead = true;
    return this.mirror;
  }

  /** Before a kernel uses the buffer: push JavaScript's writes to the device. */
  beforeKernel(): void {
    if (this.hostAhead) {
      this.addon.upload(this.handle, 0, this.mirror!);
      this.hostAhead = false;
    }
  }

  /** After a kernel wrote the buffer: the mirror is stale. */
  written(): void {
    this.hostValid = false;
  }
}

/** An f32 tensor in a device buffer, `offset` elements in. */
export class DeviceTensor implements F32Tensor {
  readonly dtype = 'f32' as const;
  readonly shape: readonly number[];

  constructor(
    readonly store: DeviceStore,
    shape: readonly number[],
    /** Elements from the start of the buffer. */
    readonly offset: number,
  ) {
    this.shape = [...shape];
  }

  get data(): Float32Array {
    return this.store.host().subarray(this.offset, this.offset + numel(this.shape));
  }

  [MAKE_VIEW](shape: readonly number[], offset: number): Tensor {
    return new DeviceTensor(this.store, shape, this.offset + offset);
  }
}

export function isDeviceTensor(t: unknown): t is DeviceTensor {
  return t instanceof DeviceTensor;
}
