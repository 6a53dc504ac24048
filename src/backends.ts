// Backends by name. The model never branches on a backend's name; callers pick one here.
// 'wasm' (WebAssembly SIMD) and 'cuda' (native addon) plug in through the same op interface.

import type { Backend } from './backend.js';
import { BackendUnavailableError } from './errors.js';
import { createRefBackend } from './ref/index.js';

export const BACKEND_NAMES = ['ref', 'wasm', 'cuda'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

export function createBackend(name: string): Backend {
  switch (name) {
    case 'ref':
      return createRefBackend();
    case 'wasm':
    case 'cuda':
      throw new BackendUnavailableError(`backend '${name}' is not built yet in this version; use --backend ref`);
    default:
      throw new BackendUnavailableError(`unknown backend '${name}'; choose one of ${BACKEND_NAMES.join(', ')}`);
  }
}
