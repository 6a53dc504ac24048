// Finding and compiling the kernel build. Two builds come out of `npm run build:wasm`
// (asconfig.json): SIMD128 (always usable) and SIMD128 + relaxed SIMD (used only where the engine
// validates it: Node 20 with --experimental-wasm-relaxed-simd, newer engines by default).

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BackendUnavailableError } from '../errors.js';

export type WasmFlavor = 'simd' | 'relaxed';

/** build/wasm, from src/wasm (tests) or dist/wasm (package): both sit two levels below the root. */
export const WASM_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'wasm');

const compiled = new Map<WasmFlavor, WebAssembly.Module>();

export function wasmFile(flavor: WasmFlavor): string {
  return join(WASM_DIR, flavor === 'simd' ? 'vila.simd.wasm' : 'vila.relaxed.wasm');
}

/**
 * Why this engine cannot use the relaxed-SIMD build, or undefined when it can. The build
 * validates only where the feature is on; and Node 20's baseline compiler (behind
 * --experimental-wasm-relaxed-simd) computes relaxed dot products differently from its
 * optimising one, so a fresh instance must pass relaxed_dot_check() (run in the baseline tier)
 * too — it does with --no-liftoff.
 */
export function relaxedSimdUnavailable(): string | undefined {
  const file = wasmFile('relaxed');
  if (!existsSync(file)) return `${file} is missing: run \`npm run build\``;
  const bytes = readFileSync(file);
  if (!WebAssembly.validate(bytes)) return 'this engine does not support relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd)';
  const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  const got = (inst.exports.relaxed_dot_check as () => number)();
  if (got !== -60) return `this engine's relaxed dot product gives ${got} instead of -60 in its baseline tier (Node 20: add --no-liftoff)`;
  return undefined;
}

/** Whether this engine runs the relaxed-SIMD build correctly. */
export function relaxedSimdAvailable(): boolean {
  return relaxedSimdUnavailable() === undefined;
}

export function loadKernels(flavor: WasmFlavor): WebAssembly.Module {
  const have = compiled.get(flavor);
  if (have !== undefined) return have;
  const file = wasmFile(flavor);
  if (!existsSync(file)) {
    throw new BackendUnavailableError(`the WebAssembly kernels are not built (${file} is missing): run \`npm run build\``);
  }
  const bytes = readFileSync(file);
  const why = flavor === 'relaxed' ? relaxedSimdUnavailable() : WebAssembly.validate(bytes) ? undefined : `this engine cannot run the WebAssembly SIMD build ${file}`;
  if (why !== undefined) throw new BackendUnavailableError(flavor === 'relaxed' ? `${why}; the simd build works everywhere` : why);
  const module = new WebAssembly.Module(bytes);
  compiled.set(flavor, module);
  return module;
}
