// What a benchmark figure was measured on: node, CPU, load at the time, and which build of the
// WebAssembly kernels (their figures move with every kernel change, so each result names its build).

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { wasmFile, type WasmFlavor } from '../wasm/module.js';

export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  /** 1, 5 and 15 minute load averages when the run started: a busy host slows every figure. */
  loadavg: number[];
  date: string;
}

/** The CPU's name; KVM guests often say only "AMD EPYC", so the family and model are added from /proc/cpuinfo. */
function cpuName(): string {
  const name = cpus()[0]?.model.trim() ?? 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const family = /^cpu family\s*:\s*(\d+)/m.exec(info)?.[1];
    const model = /^model\s*:\s*(\d+)/m.exec(info)?.[1];
    if (family !== undefined && model !== undefined) return `${name} (family ${family} model ${model})`;
  } catch {
    // not Linux: the name alone
  }
  return name;
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    node: process.version,
    cpu: cpuName(),
    cores: c.length,
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    date: new Date().toISOString(),
  };
}

/** First 12 hex digits of the kernel build's SHA-256, or undefined when it is not built. */
export function kernelBuild(flavor: WasmFlavor): string | undefined {
  const file = wasmFile(flavor);
  if (!existsSync(file)) return undefined;
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
}

/** Peak resident memory of this process so far, in MB (10⁶ bytes); maxRSS is in KiB. */
export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS * 1024) / 1e6);
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}
