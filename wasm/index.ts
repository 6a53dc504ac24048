// The WebAssembly kernels: one export per op and dtype, output argument first, raw pointers into
// the shared memory and sizes, and the range of work units [start, end) this call computes (the
// host splits each op's units over its threads).

export { matmul_f32, matmul_bf16, matmul_f16 } from './matmul';
export { ceiling_fma, ceiling_read } from './ceiling';
