// Reference elementwise binary ops on equal shapes (no broadcasting: callers pass full tensors).

import type { OpArgs } from '../backend.js';
import { expectLength } from './check.js';

export function add({ out, a, b }: OpArgs['add']): void {
  const n = a.data.length;
  expectLength('add', 'b', b, n);
  expectLength('add', 'out', out, n);
  for (let i = 0; i < n; i++) out.data[i] = a.data[i]! + b.data[i]!;
}

export function mul({ out, a, b }: OpArgs['mul']): void {
  const n = a.data.length;
  expectLength('mul', 'b', b, n);
  expectLength('mul', 'out', out, n);
  for (let i = 0; i < n; i++) out.data[i] = a.data[i]! * b.data[i]!;
}
