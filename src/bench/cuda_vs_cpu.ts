// CPU (WebAssembly) and GPU (CUDA) side by side, on the same machine and in the same process:
//   - the GPU's device-to-device copy bandwidth (the ceiling the int4 GEMV is judged against),
//   - int4 GEMV at decode shapes (m = 1): GB/s of the bytes the op must read (nibbles, f16
//     scales and scaled zeros, activations), rotating through copies larger than 2× the cache
//     (50 MiB L2 on H100, 32 MiB L3 here) so that the weights come from memory,
//   - GEMM TFLOP/s at prefill / vision shapes (f16 and int4 weights),
//   - a VILA1.5-3B-shaped random model (src/bench/random_model.ts): time to first token with one
//     image (tower + projector + splice + prefill of the image and 32 text tokens), prefill and
//     decode tokens/s.
// Writes <out>/cuda-vs-cpu-<date>.json and <out>/cuda-vs-cpu.svg, prints a table.
// GPU calls go through run() like the model's (validation, marshalling, one kernel launch each):
// for a GEMV of a few microseconds, Node's per-call cost is part of what is measured.
//   node dist/bench/cuda_vs_cpu.js [--out DIR] [--cpu-threads N] [--skip-cpu] [--skip-model] [--tokens N]

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { allocate, run, type Backend, type OpArgs } from '../backend.js';
import { createCudaBackend, type CudaBackend } from '../cuda/backend.js';
import { weight } from '../opcheck/cases.js';
import { fill } from '../opcheck/harness.js';
import { argmax, seededRandom } from '../sampling.js';
import { IMAGE_TOKEN_INDEX } from '../text/image_tokens.js';
import { f32 } from '../tensor.js';
import { createWasmBackend, defaultThreads, type WasmBackend } from '../wasm/backend.js';
import { machineInfo, median } from './machine.js';
import { buildRandomModel } from './random_model.js';
import { randomQ4Fast } from './random_weights.js';
import { BENCH_SHAPES } from './shapes.js';
import { timeSync } from './timing.js';
import { cudaSvg } from './cuda_svg.js';

type Side = 'cpu' | 'gpu';

export interface OpFigure {
  name: string;
  kind: 'gemv_q4' | 'gemm';
  m: number;
  n: number;
  k: number;
  bytes: number;
  flops: number;
  copies: number;
  ms: Partial<Record<Side, number>>;
  gbs: Partial<Record<Side, number>>;
  tflops: Partial<Record<Side, number>>;
}

export interface ModelFigure {
  shape: string;
  image_tokens: number;
  prompt_tokens: number;
  /** One image: encode + splice + prefill of image and text → first token's logits, seconds. */
  ttft_s: number;
  image_s: number;
  prefill_tok_s: number;
  decode_tok_s: number;
  decode_ms: number[];
}

export interface CudaVsCpuReport {
  bench: 'cuda-vs-cpu';
  date: string;
  machine: ReturnType<typeof machineInfo>;
  gpu: { name: string; capability: string; total_mem_gb: number; copy_gbs: number } | null;
  cpu_threads: number;
  ops: OpFigure[];
  model: Partial<Record<Side, ModelFigure>>;
  notes: string[];
}

const log = (s: string): void => void process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${s}\n`);

export interface OpSpec {
  name: string;
  kind: 'gemv_q4' | 'gemm';
  m: number;
  n: number;
  k: number;
  make: (seed: number, be: Backend) => OpArgs['matmul'] | OpArgs['matmul_q4'];
}

export function q4Spec(label: string, m: number, n: number, k: number): OpSpec {
  return {
    name: `int4 ${label} m=${m} ${n}x${k}`, kind: m === 1 ? 'gemv_q4' : 'gemm', m, n, k,
    make: (seed, be) => ({ x: fill(allocate(be, [m, k]), seededRandom(seed)), w: randomQ4Fast(n, k, 128, seed), out: allocate(be, [m, n]) }),
  };
}

export function f16Spec(label: string, m: number, n: number, k: number): OpSpec {
  return {
    name: `f16 ${label} m=${m} ${n}x${k}`, kind: 'gemm', m, n, k,
    make: (seed, be) => ({ x: fill(allocate(be, [m, k]), seededRandom(seed)), w: weight(seededRandom(seed + 1), [n, k], 'f16'), out: allocate(be, [m, n]) }),
  };
}

export const OP_SPECS: OpSpec[] = [
  q4Spec('square decode', 1, 4096, 4096),
  q4Spec('llama-3b gate/up decode', 1, 6912, 2560),
  q4Spec('llama-3b down decode', 1, 2560, 6912),
  q4Spec('llama-3b prefill', 256, 6912, 2560),
  f16Spec('siglip fc1 (729 tokens)', 729, 4304, 1152),
];

/** Bytes an op must read or write at least: int4 nibbles, f16 scales and zeros, f32 activations. */
function opBytes(s: OpSpec): number {
  const w = s.name.startsWith('int4') ? (s.n * s.k) / 2 + 4 * s.n * (s.k / 128) : 2 * s.n * s.k;
  return w + 4 * (s.m * s.k + s.m * s.n);
}

/** GPU time per call: batches of calls then one sync, until ≥ 5 batches of ≥ 30 ms; median. */
function gpuTime(be: CudaBackend, call: (i: number) => void, warm: number): number {
  for (let i = 0; i < warm; i++) call(i);
  be.sync();
  let n = 1;
  let i = 0;
  for (;;) {
    const t0 = performance.now();
    for (let j = 0; j < n; j++) call(i++);
    be.sync();
    if (performance.now() - t0 >= 30 || n >= 1 << 16) break;
    n *= 2;
  }
  const per: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (let j = 0; j < n; j++) call(i++);
    be.sync();
    per.push((performance.now() - t0) / n);
  }
  return median(per);
}

function benchOp(s: OpSpec, gpu: CudaBackend | undefined, cpu: WasmBackend | undefined, rotateBytes: number): OpFigure {
  const bytes = opBytes(s);
  const flops = 2 * s.m * s.n * s.k;
  // Decode shapes stream their weights: rotate through copies adding up to ≥ rotateBytes.
  const copies = s.m === 1 ? Math.max(4, Math.ceil(rotateBytes / bytes)) : 1;
  const f: OpFigure = { name: s.name, kind: s.kind, m: s.m, n: s.n, k: s.k, bytes, flops, copies, ms: {}, gbs: {}, tflops: {} };
  const op = s.name.startsWith('int4') ? 'matmul_q4' : 'matmul';
  const record = (side: Side, ms: number): void => {
    f.ms[side] = ms;
    f.gbs[side] = bytes / ms / 1e6;
    f.tflops[side] = flops / ms / 1e9;
  };
  if (gpu !== undefined) {
    const args = Array.from({ length: copies }, (_, j) => s.make(100 + j, gpu));
    record('gpu', gpuTime(gpu, (i) => run(gpu, op, s.name, args[i % copies] as never), copies + 2));
  }
  if (cpu !== undefined) {
    const args = Array.from({ length: copies }, (_, j) => s.make(100 + j, cpu));
    let i = 0;
    const t = timeSync(s.name, () => run(cpu, op, s.name, args[i++ % copies] as never), { timeMs: 500, minSamples: Math.max(5, copies), warmup: copies + 1 });
    record('cpu', t.ms);
  }
  return f;
}

/** Device-to-device copy bandwidth, GB/s counting bytes read and written (as bandwidthTest does). */
function copyBandwidth(gpu: CudaBackend, bytes: number): number {
  const a = gpu.runtime.addon;
  const src = a.alloc(bytes);
  const dst = a.alloc(bytes);
  try {
    const ms = gpuTime(gpu, () => a.copy(dst, 0, src, 0, bytes), 2);
    return (2 * bytes) / ms / 1e6;
  } finally {
    a.free(src);
    a.free(dst);
  }
}

function benchModel(be: Backend, label: string, shape: string, built: ReturnType<typeof buildRandomModel>, tokens: number, sync: () => void): ModelFigure {
  const w = built.weights;
  const s = w.config.vision!.imageSize;
  const rnd = seededRandom(1);
  const pixels = f32(Float32Array.from({ length: 3 * s * s }, () => rnd() * 2 - 1), [3, s, s]);
  const vocab = w.config.llm.vocabSize;
  const text = Array.from({ length: 32 }, () => 3 + Math.floor(rnd() * (vocab - 3)));
  const ids = [1, IMAGE_TOKEN_INDEX, ...text];
  const ttft = (): { total: number; image: number; logits: Float32Array; cache: ReturnType<typeof w.newCache>; length: number } => {
    const t0 = performance.now();
    const feats = w.encodeImage(be, pixels);
    sync();
    const t1 = performance.now();
    const embeds = w.embedSpliced(be, ids, [feats]);
    const cache = w.newCache(embeds.shape[0]! + tokens + 1, be);
    const logits = w.forward(be, embeds, cache).data;
    argmax(logits);
    const t2 = performance.now();
    return { total: (t2 - t0) / 1000, image: (t1 - t0) / 1000, logits, cache, length: embeds.shape[0]! };
  };
  log(`${label}: first pass (uploads the weights, untimed)`);
  ttft();
  log(`${label}: time to first token`);
  const r = ttft();
  const prefillS = r.total - r.image;
  const steps: number[] = [];
  let logits = r.logits;
  for (let i = 0; i < tokens; i++) {
    const t0 = performance.now();
    logits = w.forwardTokens(be, [argmax(logits)], r.cache).data;
    steps.push(performance.now() - t0);
  }
  const fig: ModelFigure = {
    shape, image_tokens: r.length - ids.length + 1, prompt_tokens: r.length, ttft_s: r.total, image_s: r.image,
    prefill_tok_s: r.length / prefillS, decode_tok_s: 1000 / median(steps), decode_ms: steps,
  };
  log(`${label}: TTFT ${fig.ttft_s.toFixed(3)} s (image ${fig.image_s.toFixed(3)} s), prefill ${fig.prefill_tok_s.toFixed(0)} tok/s, decode ${fig.decode_tok_s.toFixed(1)} tok/s`);
  return fig;
}

export interface CudaVsCpuOptions {
  out: string;
  cpuThreads: number;
  skipCpu: boolean;
  skipModel: boolean;
  tokens: number;
  /** Model shape (default 'vila1.5-3b'; tests use 'tiny'). */
  shape?: string;
  /** Op cases (default OP_SPECS). */
  specs?: OpSpec[];
  /** A backend to use instead of createCudaBackend() (tests: the host stand-in for the addon). */
  gpu?: CudaBackend;
  /** Bytes of the copy-bandwidth buffers (default 512 MiB). */
  copyBytes?: number;
  /** Decode-shaped ops rotate through input copies adding up to this many bytes (default 128 MiB). */
  rotateBytes?: number;
}

export function runCudaVsCpu(o: CudaVsCpuOptions): CudaVsCpuReport {
  const notes: string[] = [];
  const gpu = o.gpu ?? createCudaBackend();
  const shape = o.shape ?? 'vila1.5-3b';
  const copy = copyBandwidth(gpu, o.copyBytes ?? 512 << 20);
  log(`GPU ${gpu.device.name} (sm ${gpu.device.capability}): device copy ${copy.toFixed(0)} GB/s`);
  const cpu = o.skipCpu ? undefined : createWasmBackend({ threads: o.cpuThreads });
  try {
    const ops = (o.specs ?? OP_SPECS).map((s) => {
      log(`op ${s.name}`);
      return benchOp(s, gpu, cpu, o.rotateBytes ?? 128 << 20);
    });
    const model: Partial<Record<Side, ModelFigure>> = {};
    if (!o.skipModel) {
      log(`building a random ${shape}-shaped model (int4 g128 LLM, fp16 tower)`);
      const built = buildRandomModel(shape, BENCH_SHAPES[shape]!, 0);
      model.gpu = benchModel(gpu, 'gpu', shape, built, o.tokens, () => gpu.sync());
      if (cpu !== undefined) model.cpu = benchModel(cpu, `cpu (wasm, ${cpu.threads} threads)`, shape, built, Math.min(o.tokens, 8), () => {});
    }
    const report: CudaVsCpuReport = {
      bench: 'cuda-vs-cpu', date: new Date().toISOString(), machine: machineInfo(),
      gpu: { name: gpu.device.name, capability: gpu.device.capability, total_mem_gb: gpu.device.totalMem / 1e9, copy_gbs: copy },
      cpu_threads: cpu?.threads ?? 0, ops, model, notes,
    };
    mkdirSync(o.out, { recursive: true });
    const stamp = report.date.slice(0, 10);
    writeFileSync(join(o.out, `cuda-vs-cpu-${stamp}.json`), `${JSON.stringify(report, null, 1)}\n`);
    writeFileSync(join(o.out, 'cuda-vs-cpu.svg'), cudaSvg(report));
    return report;
  } finally {
    cpu?.close();
  }
}

const fmt = (v: number | undefined, d = 1): string => (v === undefined ? '—' : v.toFixed(d));

/** The table printed last (markdown). */
export function cudaTable(r: CudaVsCpuReport): string {
  const lines = [`GPU: ${r.gpu?.name} (sm ${r.gpu?.capability}), device copy ${fmt(r.gpu?.copy_gbs, 0)} GB/s; CPU: wasm, ${r.cpu_threads} threads`, ''];
  lines.push('| op | CPU | GPU | GPU vs copy bw |', '|---|---|---|---|');
  for (const f of r.ops) {
    if (f.kind === 'gemv_q4') lines.push(`| ${f.name} | ${fmt(f.gbs.cpu)} GB/s | ${fmt(f.gbs.gpu)} GB/s (${fmt((f.ms.gpu ?? NaN) * 1000, 1)} µs) | ${fmt((100 * (f.gbs.gpu ?? NaN)) / (r.gpu?.copy_gbs ?? NaN), 0)}% |`);
    else lines.push(`| ${f.name} | ${fmt(f.tflops.cpu, 3)} TFLOP/s | ${fmt(f.tflops.gpu, 2)} TFLOP/s | |`);
  }
  const c = r.model.cpu;
  const g = r.model.gpu;
  if (g !== undefined) {
    lines.push('', `| ${g.shape} shape (int4 g128), 1 image (${g.image_tokens} tokens) + ${g.prompt_tokens - g.image_tokens} text | CPU | GPU |`, '|---|---|---|');
    lines.push(`| time to first token | ${fmt(c?.ttft_s, 2)} s | ${fmt(g.ttft_s, 3)} s |`);
    lines.push(`| image (tower + projector) | ${fmt(c?.image_s, 2)} s | ${fmt(g.image_s, 3)} s |`);
    lines.push(`| prefill | ${fmt(c?.prefill_tok_s, 0)} tok/s | ${fmt(g.prefill_tok_s, 0)} tok/s |`);
    lines.push(`| decode | ${fmt(c?.decode_tok_s, 1)} tok/s | ${fmt(g.decode_tok_s, 1)} tok/s |`);
  }
  return lines.join('\n');
}

export function main(argv: string[] = process.argv.slice(2)): void {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: join(process.cwd(), 'bench', 'results') },
      'cpu-threads': { type: 'string' },
      'skip-cpu': { type: 'boolean' },
      'skip-model': { type: 'boolean' },
      tokens: { type: 'string', default: '32' },
    },
  });
  const r = runCudaVsCpu({
    out: values.out!, cpuThreads: values['cpu-threads'] === undefined ? defaultThreads() : Number(values['cpu-threads']),
    skipCpu: values['skip-cpu'] === true, skipModel: values['skip-model'] === true, tokens: Number(values.tokens),
  });
  process.stdout.write(`${cudaTable(r)}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (e) {
    process.stderr.write(`cuda-vs-cpu: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
