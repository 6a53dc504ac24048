// Backends by name. The model never branches on a backend's name; callers pick one here.
// 'wasm' (WebAssembly SIMD, the default) and 'cuda' (native addon) plug in through the same op
// interface as 'ref' (the readable reference, the oracle).

import type { Backend } from './backend.js';
import { BackendUnavailableError, InputError } from './errors.js';
import { createCudaBackend } from './cuda/backend.js';
import { createRefBackend } from './ref/index.js';
import { createWasmBackend } from './wasm/backend.js';

export const BACKEND_NAMES = ['wasm', 'ref', 'cuda'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export const DEFAULT_BACKEND: BackendName = 'wasm';

export interface BackendOptions {
  /** Threads for the wasm backend (default: os.availableParallelism()). */
  threads?: number;
}

export function createBackend(name: string = DEFAULT_BACKEND, opts: BackendOptions = {}): Backend {
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new InputError(`threads must be a whole number ≥ 1, got ${opts.threads}`);
  }
  switch (name) {
    case 'ref':
      return createRefBackend();
    case 'wasm':
      return createWasmBackend(opts.threads === undefined ? {} : { threads: opts.threads });
    case 'cuda':
      // Throws BackendUnavailableError saying why (addon not built, not loadable, no device).
      return createCudaBackend();
    default:
      throw new BackendUnavailableError(`unknown backend '${name}'; choose one of ${BACKEND_NAMES.join(', ')}`);
  }
}
