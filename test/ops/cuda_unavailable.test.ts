// Without the addon or a GPU the CUDA backend is unavailable with a clear reason, and nothing
// else is affected: createBackend('cuda') throws BackendUnavailableError saying how to build it
// or that there is no device; the loader copes with a missing or unloadable .node file.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createBackend } from '../../src/backends.js';
import { addonPath, cudaAvailability, loadCuda } from '../../src/cuda/addon.js';
import { BackendUnavailableError } from '../../src/errors.js';

const avail = cudaAvailability();

describe('cuda backend availability', () => {
  it.skipIf(avail.ok)(`createBackend('cuda') throws BackendUnavailableError naming build:cuda or the missing device${avail.ok ? ' (skipped: a CUDA device is here)' : ''}`, () => {
    let err: unknown;
    try {
      createBackend('cuda');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BackendUnavailableError);
    expect((err as Error).message).toMatch(/build:cuda|no CUDA device|cannot be loaded/);
    // The other backends still work.
    expect(createBackend('ref').name).toBe('ref');
  });

  it('a missing addon file: not built, with the command that builds it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vila-cuda-')), 'vila_cuda.node');
    expect(() => loadCuda(path)).toThrow(BackendUnavailableError);
    expect(() => loadCuda(path)).toThrow(/not built .*is missing.*npm run build:cuda/);
    const a = cudaAvailability(path);
    expect(a.ok).toBe(false);
  });

  it('a file that is not a loadable addon: cannot be loaded, with the loader error', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'vila-cuda-')), 'vila_cuda.node');
    writeFileSync(path, 'not an ELF file');
    expect(() => loadCuda(path)).toThrow(/cannot be loaded/);
  });

  it('looks for build/cuda/vila_cuda.node of this package unless VILA_CUDA_ADDON says otherwise', () => {
    expect(addonPath().replace(/\\/g, '/')).toMatch(/build\/cuda\/vila_cuda\.node$/);
  });
});
