// Progress for long work (loading weights, encoding images), drawn on stderr when it is a
// terminal and silent otherwise, so stdout stays clean for --json output.

import cliProgress from 'cli-progress';
import { setOpHook } from '../backend.js';

export interface Progress {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

export function progressBar(title: string, unit: 'bytes' | 'steps' = 'bytes'): Progress {
  if (!process.stderr.isTTY) return { update: () => {}, stop: () => {} };
  const fmt = unit === 'bytes' ? '{doneMB}/{totalMB} MB' : '{value}/{total}';
  const bar = new cliProgress.SingleBar(
    { format: `${title} [{bar}] {percentage}% ${fmt} {label}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, label) {
      const payload = { label: label.slice(-40), doneMB: (done / 1e6).toFixed(0), totalMB: (total / 1e6).toFixed(0) };
      if (!started) {
        bar.start(total, done, payload);
        started = true;
      } else bar.update(done, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/**
 * Progress of a prompt's prefill (each image's vision layers, then the decoder layers), seen
 * through the op hook at the run() choke point. Returns a function that removes it.
 */
export function prefillProgress(visionLayersPerImage: number, images: number, llmLayers: number): () => void {
  if (!process.stderr.isTTY) return () => {};
  const total = images * visionLayersPerImage + llmLayers;
  const bar = progressBar('reading the prompt', 'steps');
  let done = 0;
  const previous = setOpHook((e) => {
    if (!/^image\d+\.vision\.layers\.\d+\.out$|^llm\.layers\.\d+\.out$/.test(e.name)) return;
    bar.update(++done, total, e.name);
    if (done >= total) remove();
  });
  function remove(): void {
    bar.stop();
    setOpHook(previous);
  }
  return remove;
}
