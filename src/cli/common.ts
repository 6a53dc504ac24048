// Options shared by the model commands, and turning them into a loaded model.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { BACKEND_NAMES, DEFAULT_BACKEND } from '../backends.js';
import { DEFAULT_MODEL_DIR } from '../default_model.js';
import { InputError } from '../errors.js';
import type { DecodeOptions } from '../media/decode.js';
import type { MediaPart, MediaRequest } from '../media/parts.js';
import { VIDEO_DECODERS, type VideoDecoderChoice } from '../media/video/decoder.js';
import { Model } from '../model.js';
import { prefillProgress, progressBar } from './progress.js';

export interface ModelOptions {
  model: string;
  backend: string;
  threads?: number;
  convMode?: string;
  textOnly?: boolean;
}

export interface PromptOptions extends ModelOptions {
  prompt?: string;
  image: string[];
  video: string[];
  /** --image and --video in the order given (set by their parsers). */
  media?: MediaPart[];
  frames?: number;
  videoDecoder?: VideoDecoderChoice;
  raw?: boolean;
  json?: boolean;
  exifOrientation?: boolean;
  alpha: 'drop' | 'white';
}

/** --threads N: a whole number ≥ 1. */
export function parseThreads(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`--threads takes a whole number ≥ 1, got '${value}'`);
  return n;
}

export const backendOption = (): Option =>
  new Option('--backend <name>', 'op backend: wasm (WebAssembly SIMD), ref (the readable reference), cuda').choices([...BACKEND_NAMES]).default(DEFAULT_BACKEND);

export const threadsOption = (): Option => new Option('--threads <n>', 'threads for the wasm backend (default: all cores)').argParser(parseThreads);

export function addModelOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--model <dir>', 'VILA model folder (config.json, llm/, vision_tower/, mm_projector/)').default(DEFAULT_MODEL_DIR, 'the bundled vila-shapes'))
    .addOption(backendOption())
    .addOption(threadsOption())
    .option('--text-only', 'load only the LLM, not the vision tower and projector (less memory; no images)')
    .option('--conv-mode <name>', 'conversation template: vicuna_v1, llama_3 (original 8B), llama_3_fix (8B-Fix), hermes-2, chat_template (the folder\'s own), ... (default: from the model folder)');
}

/** --frames N: a whole number ≥ 1. */
export function parseFrames(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InputError(`--frames takes a whole number ≥ 1, got '${value}'`);
  return n;
}

export const videoDecoderOption = (): Option =>
  new Option('--video-decoder <name>', "video decoding: 'system' ffmpeg, 'wasm' (@ffmpeg/core), 'auto' = system when on PATH (default; env VILA_VIDEO_DECODER)").choices([...VIDEO_DECODERS]);

export function addPromptOptions(cmd: Command): Command {
  // --image and --video also append to one ordered list, so `--image a --video v --image b`
  // feeds a, v's frames, b in that order.
  const part = (make: (path: string) => MediaPart) => (value: string, previous: string[]): string[] => {
    cmd.setOptionValue('media', [...((cmd.getOptionValue('media') as MediaPart[] | undefined) ?? []), make(value)]);
    return [...previous, value];
  };
  return addModelOptions(cmd)
    .argument('[prompt]', 'the prompt (instead of --prompt)')
    .option('--prompt <text>', 'the prompt')
    .option('--image <path>', 'an image; repeat for several, in order', part((image) => ({ image })), [])
    .option('--video <path>', 'an MP4 video (H.264, HEVC, VP9), fed as N frames; repeat for several; in order with --image', part((video) => ({ video })), [])
    .addOption(new Option('--frames <n>', "frames per video (default: the model's num_video_frames)").argParser(parseFrames))
    .addOption(videoDecoderOption())
    .option('--raw', 'use the prompt verbatim, with its <image> placeholders, and no chat template')
    .option('--exif-orientation', 'turn photos upright by their EXIF tag (upstream VILA does not)')
    .addOption(new Option('--alpha <mode>', "transparent pixels: 'drop' the alpha as upstream, or composite on 'white'").choices(['drop', 'white']).default('drop'))
    .option('--json', 'print one JSON object');
}

/** The prompt from --prompt or the positional argument (exactly one of them). */
export function promptOf(opts: PromptOptions, positional: string | undefined): string {
  if (opts.prompt !== undefined && positional !== undefined) throw new InputError('give the prompt either with --prompt or as an argument, not both');
  const prompt = opts.prompt ?? positional;
  if (prompt === undefined) throw new InputError('no prompt: give --prompt TEXT or the prompt as the last argument');
  return prompt;
}

export async function loadModelWithProgress(opts: ModelOptions): Promise<Model> {
  if (opts.model === DEFAULT_MODEL_DIR && !existsSync(join(DEFAULT_MODEL_DIR, 'config.json'))) {
    throw new InputError(`no --model given, and the bundled model is not in this checkout (${DEFAULT_MODEL_DIR}): pass --model DIR`);
  }
  const bar = progressBar('loading');
  try {
    return await Model.load(opts.model, {
      backend: opts.backend,
      ...(opts.threads === undefined ? {} : { threads: opts.threads }),
      ...(opts.convMode === undefined ? {} : { convMode: opts.convMode }),
      ...(opts.textOnly === true ? { textOnly: true } : {}),
      onProgress: (done, total, what) => bar.update(done, total, what),
      onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
    });
  } finally {
    bar.stop();
  }
}

/** Show prefill progress for a prompt with `images` images (stderr, terminals only). */
export function showPrefillProgress(model: Model, images: number): () => void {
  return prefillProgress(model.config.select?.layersToRun ?? 0, images, model.config.llm.layers);
}

/** The images and videos of the prompt options, in the order given. */
export function mediaRequest(opts: PromptOptions): MediaRequest {
  return {
    media: opts.media ?? [],
    ...(opts.frames === undefined ? {} : { videoFrames: opts.frames }),
    ...(opts.videoDecoder === undefined ? {} : { videoDecoder: opts.videoDecoder }),
  };
}

/** The image decoding the prompt options ask for. */
export function decodeOptions(opts: PromptOptions): DecodeOptions {
  return { alpha: opts.alpha, exifOrientation: opts.exifOrientation === true };
}
