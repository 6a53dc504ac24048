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

/** Whether this engine runs the relaxed-SIMD build (it validates only where the feature is on). */
export function relaxedSimdAvailable(): boolean {
  const file = wasmFile('relaxed');
  return existsSync(file) && WebAssembly.validate(readFileSync(file));
}

export function loadKernels(flavor: WasmFlavor): WebAssembly.Module {
  const have = compiled.get(flavor);
  if (have !== undefined) return have;
  const file = wasmFile(flavor);
  if (!existsSync(file)) {
    throw new BackendUnavailableError(`the WebAssembly kernels are not built (${file} is missing): run \`npm run build\``);
  }
  const bytes = readFileSync(file);
  if (!WebAssembly.validate(bytes)) {
    throw new BackendUnavailableError(
      flavor === 'relaxed'
        ? `this engine does not support relaxed SIMD (Node 20 needs --experimental-wasm-relaxed-simd); use the simd build`
        : `this engine cannot run the WebAssembly SIMD build ${file}`,
    );
  }
  const module = new WebAssembly.Module(bytes);
  compiled.set(flavor, module);
  return module;
}
