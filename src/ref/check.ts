// Shape checks shared by the reference kernels. A mismatch here is a bug in the caller (the
// model graph or a test), so the message names the op, the argument and both shapes.

import { InputError } from '../errors.js';
import { sameShape, shapeString, type Tensor } from '../tensor.js';

/** The (rows, cols) of a 2-D tensor; throws if it is not 2-D. */
export function dims2(op: string, arg: string, t: Tensor): [number, number] {
  if (t.shape.length !== 2) throw new InputError(`${op}: ${arg} must be 2-D, got ${shapeString(t.shape)}`);
  return [t.shape[0]!, t.shape[1]!];
}

export function expectShape(op: string, arg: string, t: Tensor, shape: readonly number[]): void {
  if (!sameShape(t.shape, shape)) throw new InputError(`${op}: ${arg} has shape ${shapeString(t.shape)}, expected ${shapeString(shape)}`);
}

export function expectLength(op: string, arg: string, t: Tensor, n: number): void {
  if (t.data.length !== n) throw new InputError(`${op}: ${arg} has ${t.data.length} elements, expected ${n}`);
}
