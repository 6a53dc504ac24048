// embedding: out (m,d) = table (vocab,d)[ids[r]], table f32, bf16 or f16 read in place. Must
// match src/ref/embedding.ts exactly (every conversion is exact): NMSE 0. The host checks the ids
// (an id outside the vocabulary is an InputError there, never a read here). Units are rows.

import { load1, load4 } from './simd';

@inline function gather<W>(out: usize, table: usize, ids: usize, d: i32, start: i32, end: i32): void {
  const sw = <usize>sizeof<W>();
  for (let r = start; r < end; r++) {
    const src = table + <usize>load<i32>(ids + (<usize>r << 2)) * d * sw;
    const dst = out + ((<usize>r * d) << 2);
    let j = 0;
    for (; j + 4 <= d; j += 4) v128.store(dst + (<usize>j << 2), load4<W>(src + <usize>j * sw));
    for (; j < d; j++) store<f32>(dst + (<usize>j << 2), load1<W>(src + <usize>j * sw));
  }
}

export function embedding_f32(out: usize, table: usize, ids: usize, d: i32, start: i32, end: i32): void {
  gather<f32>(out, table, ids, d, start, end);
}

export function embedding_bf16(out: usize, table: usize, ids: usize, d: i32, start: i32, end: i32): void {
  gather<u16>(out, table, ids, d, start, end);
}

export function embedding_f16(out: usize, table: usize, ids: usize, d: i32, start: i32, end: i32): void {
  gather<i16>(out, table, ids, d, start, end);
}
