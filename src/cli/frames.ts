// `vila frames --video FILE [--frames N] --out DIR`: the frames VILA 1.5 would see, as PNG files
// frame-<index>.png (index = frame number in display order; black paddings of short videos as
// pad-<k>.png), one line per image fed, in feeding order.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { DEFAULT_MODEL_DIR } from '../default_model.js';
import { encodePng } from '../media/png.js';
import { extractVideoFrames, type VideoDecoderChoice } from '../media/video/index.js';
import { loadVilaConfig } from '../model/config.js';
import { parseFrames, videoDecoderOption } from './common.js';

interface FramesOptions {
  video: string;
  out: string;
  frames?: number;
  model: string;
  videoDecoder?: VideoDecoderChoice;
}

export function framesCommand(program: Command): void {
  program
    .command('frames')
    .description("write the frames VILA 1.5 picks from a video as PNG files (upstream's opencv_extract_frames rule)")
    .requiredOption('--video <path>', 'an MP4 video (H.264, HEVC, VP9)')
    .requiredOption('--out <dir>', 'folder for frame-<index>.png (created if missing)')
    .addOption(new Option('--frames <n>', "how many frames (default: num_video_frames of --model)").argParser(parseFrames))
    .addOption(new Option('--model <dir>', 'the model whose num_video_frames is the default').default(DEFAULT_MODEL_DIR, 'the bundled vila-shapes'))
    .addOption(videoDecoderOption())
    .action(async (opts: FramesOptions) => {
      const n = opts.frames ?? loadVilaConfig(opts.model).numVideoFrames;
      const t0 = performance.now();
      const v = await extractVideoFrames(opts.video, n, opts.videoDecoder === undefined ? {} : { decoder: opts.videoDecoder });
      const ms = performance.now() - t0;
      mkdirSync(opts.out, { recursive: true });
      const { info } = v;
      process.stdout.write(
        `${opts.video}: ${info.codec} (${info.codecString}) ${info.width}x${info.height}, ${info.frames.length} frames shown` +
          `${info.samples === info.frames.length ? '' : ` of ${info.samples} stored`}; ${n} picked, decoded by ${v.decoder ?? 'none'} in ${ms.toFixed(0)} ms\n`,
      );
      const written = new Set<string>();
      let pads = 0;
      for (const [i, pick] of v.picks.entries()) {
        const name = pick.kind === 'frame' ? `frame-${pick.index}.png` : `pad-${pads++}.png`;
        const path = join(opts.out, name);
        if (!written.has(name)) {
          await encodePng(v.images[i]!, path);
          written.add(name);
        }
        const what = pick.kind === 'frame' ? `frame ${pick.index} at ${info.frames[pick.index]!.time.toFixed(3)} s` : `black padding ${pick.width}x${pick.height}`;
        process.stdout.write(`wrote ${path} (${what})\n`);
      }
    });
}
