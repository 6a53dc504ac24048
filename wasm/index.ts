// The WebAssembly kernels: one export per op and dtype, output argument first, raw pointers into
// the shared memory and sizes, and the range of work units [start, end) this call computes (the
// host splits each op's units over its threads).

export { matmul_f32, matmul_bf16, matmul_f16 } from './matmul';
export { ceiling_fma, ceiling_read } from './ceiling';
export { quantize_x16, matmul_q4_x16 } from './matmul_q4';
export { add_f32, mul_f32 } from './elementwise';
export { layer_norm_f32, rms_norm_f32 } from './norm';
export { gelu_tanh_f32, gelu_erf_f32, silu_mul_f32 } from './activation';
export { rope_f32 } from './rope';
export { attention_f32 } from './attention';
export { embedding_f32, embedding_bf16, embedding_f16 } from './embedding';
export { downsample_2x2_f32, patch_rows_f32 } from './vision';
export { quantize_x8, matmul_q4_x8, matmul_q4_x8_rows, relaxed_dot_check } from './matmul_q4_relaxed';
export { matmul_q4_x16_rows } from './matmul_q4_rows';
