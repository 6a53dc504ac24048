// CPU (wasm) vs GPU (CUDA) benchmark: see src/bench/cuda_vs_cpu.ts. Needs the CUDA addon
// (npm run build:cuda) and a GPU; writes bench/results/cuda-vs-cpu-DATE.json and cuda-vs-cpu.svg.
//   npx tsx bench/cuda_vs_cpu.ts [--out DIR] [--cpu-threads N] [--skip-cpu] [--skip-model] [--tokens N]
//   npm run bench:cuda      (the same through dist/, as cuda/run-on-gpu.sh runs it)
import { main } from '../src/bench/cuda_vs_cpu.js';

main();
