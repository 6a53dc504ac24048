// Backends by name: wasm is the default, ref stays available, bad thread counts and unknown
// names are clear errors.

import { describe, expect, it } from 'vitest';
import { createBackend, DEFAULT_BACKEND } from '../../src/backends.js';
import { BackendUnavailableError, InputError } from '../../src/errors.js';
import { parseThreads } from '../../src/cli/common.js';
import type { WasmBackend } from '../../src/wasm/backend.js';

describe('createBackend', () => {
  it('makes the WebAssembly backend by default, with the threads asked for', () => {
    expect(DEFAULT_BACKEND).toBe('wasm');
    const be = createBackend(undefined, { threads: 2 }) as WasmBackend;
    expect(be.name).toBe('wasm');
    expect(be.threads).toBe(2);
    be.close();
    expect(createBackend('ref').name).toBe('ref');
  });

  it('refuses thread counts that are not whole numbers ≥ 1, and unknown names', () => {
    expect(() => createBackend('wasm', { threads: 0 })).toThrow(InputError);
    expect(() => createBackend('wasm', { threads: 1.5 })).toThrow(InputError);
    expect(() => parseThreads('two')).toThrow(/--threads takes a whole number/);
    expect(parseThreads('3')).toBe(3);
    expect(() => createBackend('tpu')).toThrow(BackendUnavailableError);
  });
});
