// Reference token embedding lookup: out (m,d) = table (vocab,d)[ids].

import type { OpArgs } from '../backend.js';
import { InputError } from '../errors.js';
import { decodeFloats } from '../tensor.js';
import { dims2, expectShape } from './check.js';

export function embedding({ out, table, ids }: OpArgs['embedding']): void {
  const [vocab, d] = dims2('embedding', 'table', table);
  expectShape('embedding', 'out', out, [ids.length, d]);
  for (let r = 0; r < ids.length; r++) {
    const id = ids[r]!;
    if (id < 0 || id >= vocab) throw new InputError(`embedding: token id ${id} outside the vocabulary of ${vocab}`);
    decodeFloats(table, id * d, d, out.data.subarray(r * d, (r + 1) * d));
  }
}
