// The public model: a VILA folder loaded with its tokenizer, image processor and conversation
// template, running on one backend. logits() and generate() take a prompt and images the way
// upstream run_vila.py does.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from './backend.js';
import { createBackend, DEFAULT_BACKEND } from './backends.js';
import { DEFAULT_MODEL_DIR } from './default_model.js';
import { InputError } from './errors.js';
import { generate, type GenerateResult } from './generate.js';
import type { DecodeOptions } from './media/decode.js';
import { loadImage, loadImageProcessorConfig, preprocess, type ImageProcessorConfig } from './media/image.js';
import { decodeMedia, imageCount, type MediaRequest } from './media/parts.js';
import { internImageProcessorConfig } from './media/intern_image.js';
import type { ProgressFn } from './model/binder.js';
import type { KVCache } from './model/llama.js';
import { s2ImageProcessorConfig } from './model/s2.js';
import { VilaWeights } from './model/vila.js';
import type { SamplingOptions } from './sampling.js';
import type { F32Tensor } from './tensor.js';
import { readChatTemplate } from './text/chat_template.js';
import { defaultConvMode, modelFolderNames } from './text/conv_mode.js';
import { CHAT_TEMPLATE_MODE, chatPrompt, conversationTemplate, type ConversationTemplate } from './text/conversation.js';
import { tokenizerImageToken } from './text/image_tokens.js';
import { loadTokenizer } from './text/load.js';
import type { Tokenizer } from './text/tokenizer.js';

export interface LoadModelOptions {
  /** A backend object, or its name ('wasm', 'ref', 'cuda'). Default 'wasm'. */
  readonly backend?: Backend | string;
  /** Threads of a backend created by name (wasm); default os.availableParallelism(). */
  readonly threads?: number;
  /** Conversation template name; default chosen from the folder (vicuna_v1 for VILA 1.5 Llama-2 models). */
  readonly convMode?: string;
  readonly onProgress?: ProgressFn;
  readonly onWarning?: (message: string) => void;
  /** Load only the LLM (the vision tower and projector stay unread); prompts with images are refused. */
  readonly textOnly?: boolean;
}

/**
 * The prompt and its media: `images` then `videos`, or `media` for any order (media/parts.ts).
 * Each video is N frames (`videoFrames`, default config num_video_frames) fed as N images.
 */
export interface PromptRequest extends MediaRequest {
  readonly prompt: string;
  /** Use the prompt verbatim (with its <image> placeholders), without the chat template. */
  readonly raw?: boolean;
  /**
   * How image files are decoded. The default reproduces upstream (PIL `convert('RGB')`: alpha
   * dropped, EXIF orientation ignored); `{ exifOrientation: true, alpha: 'white' }` shows the
   * model photos upright and transparent areas white.
   */
  readonly decode?: DecodeOptions;
}

export interface GenerateRequest extends PromptRequest {
  readonly maxNewTokens?: number;
  readonly sampling?: Partial<SamplingOptions>;
  readonly onText?: (delta: string) => void;
}

/** run_vila.py defaults: temperature 0.2, top_p None, max_new_tokens 512; HF's top_k 50. */
export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 0.2, topK: 50, topP: 1, seed: 0 };
export const DEFAULT_MAX_NEW_TOKENS = 512;

export class Model {
  private constructor(
    readonly weights: VilaWeights,
    readonly tokenizer: Tokenizer,
    readonly imageConfig: ImageProcessorConfig | undefined,
    readonly template: ConversationTemplate,
    readonly backend: Backend,
  ) {}

  /** Load a VILA folder (default: the bundled vila-shapes model). */
  static async load(dir: string = DEFAULT_MODEL_DIR, opts: LoadModelOptions = {}): Promise<Model> {
    const backend =
      typeof opts.backend === 'object' ? opts.backend : createBackend(opts.backend ?? DEFAULT_BACKEND, opts.threads === undefined ? {} : { threads: opts.threads });
    const weights = VilaWeights.load(dir, {
      ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
      ...(backend.adopt === undefined ? {} : { adopt: backend.adopt.bind(backend) }),
      onUnknownTensor: (key, where) => opts.onWarning?.(`${where}: tensor '${key}' is not used by the model`),
      ...(opts.textOnly === true ? { textOnly: true } : {}),
    });
    const tokenizer = await loadTokenizer(weights.config.llmDir);
    const imageConfig = weights.textOnly ? undefined : await imageConfigOf(weights, opts.onWarning);
    const { root, llmDir } = weights.config;
    const convMode = opts.convMode ?? defaultConvMode(tokenizer, modelFolderNames(root, llmDir));
    const template = conversationTemplate(
      convMode,
      convMode === CHAT_TEMPLATE_MODE ? await readChatTemplate(llmDir) : undefined,
    );
    return new Model(weights, tokenizer, imageConfig, template, backend);
  }

  private noImages(): InputError {
    return new InputError(this.weights.textOnly
      ? `the model at ${this.config.root} was loaded text only (--text-only); it cannot take images`
      : `the model at ${this.config.root} takes no images`);
  }

  get config() {
    return this.weights.config;
  }

  /** The ids fed to the model, with IMAGE_TOKEN_INDEX (−200) where each image goes. */
  inputIds(req: PromptRequest): number[] {
    const n = imageCount(req, this.config.numVideoFrames);
    const text = req.raw === true ? req.prompt : chatPrompt(this.template, req.prompt, n);
    return tokenizerImageToken(this.tokenizer, text);
  }

  /** Decode and preprocess image files → pixel tensors (3, S, S). */
  async loadImages(paths: readonly string[], decode: DecodeOptions = {}): Promise<F32Tensor[]> {
    if (paths.length === 0) return [];
    if (this.imageConfig === undefined) throw this.noImages();
    const cfg = this.imageConfig;
    return Promise.all(paths.map((p) => loadImage(p, cfg, this.config.imageAspectRatio, decode)));
  }

  /** Decode and preprocess a request's images and video frames, in model order → pixel tensors (3, S, S). */
  async loadMedia(req: MediaRequest & { readonly decode?: DecodeOptions }): Promise<F32Tensor[]> {
    if (imageCount(req, this.config.numVideoFrames) === 0) return [];
    if (this.imageConfig === undefined) throw this.noImages();
    const cfg = this.imageConfig;
    const images = await decodeMedia(req, this.config.numVideoFrames, req.decode);
    return images.map((im) => preprocess(im, cfg, this.config.imageAspectRatio));
  }

  /** Run the prompt; returns the input ids, the last-position logits and the filled cache. */
  async prefill(req: PromptRequest, extraCapacity = 0): Promise<{ inputIds: number[]; logits: Float32Array; cache: KVCache }> {
    const inputIds = this.inputIds(req);
    // Count and length are checked before any image is decoded or encoded (minutes on a real model).
    this.weights.checkPrompt(inputIds, imageCount(req, this.config.numVideoFrames));
    const pixels = await this.loadMedia(req);
    const features = pixels.map((p, i) => this.weights.encodeImage(this.backend, p, `image${i}`));
    const embeds = this.weights.embedSpliced(this.backend, inputIds, features);
    const cache = this.weights.newCache(Math.min(this.config.modelMaxLength, embeds.shape[0]! + extraCapacity), this.backend);
    const logits = this.weights.forward(this.backend, embeds, cache).data;
    return { inputIds, logits, cache };
  }

  async logits(req: PromptRequest): Promise<{ inputIds: number[]; logits: Float32Array }> {
    const { inputIds, logits } = await this.prefill(req);
    return { inputIds, logits };
  }

  async generate(req: GenerateRequest): Promise<GenerateResult & { inputIds: number[] }> {
    const maxNewTokens = req.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
    if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) throw new InputError(`max new tokens must be a whole number ≥ 1, got ${maxNewTokens}`);
    const { inputIds, logits, cache } = await this.prefill(req, maxNewTokens);
    const eos = this.tokenizer.eosId ?? this.config.llm.eosTokenId;
    const step = (id: number): Float32Array | undefined =>
      cache.length < cache.capacity ? this.weights.forwardTokens(this.backend, [id], cache).data : undefined;
    const result = generate(logits, step, this.tokenizer, {
      maxNewTokens,
      sampling: { ...DEFAULT_SAMPLING, ...req.sampling },
      eosIds: eos === undefined ? [] : [eos],
      stopStrings: this.template.stopStrings,
      ...(req.onText === undefined ? {} : { onText: req.onText }),
    });
    return { ...result, inputIds };
  }
}

/**
 * How a folder's images are preprocessed: InternViT's is fixed upstream (intern_encoder.py,
 * preprocessor_config.json not read); SigLIP's comes from vision_tower/preprocessor_config.json.
 */
async function imageConfigOf(weights: VilaWeights, onWarning?: (message: string) => void): Promise<ImageProcessorConfig | undefined> {
  const { vision, visionDir } = weights.config;
  if (vision === undefined || visionDir === undefined) return undefined;
  if (vision.kind === 'intern') return internImageProcessorConfig(vision.file);
  const pre = join(visionDir, 'preprocessor_config.json');
  if (existsSync(pre)) return s2ImageProcessorConfig(await loadImageProcessorConfig(pre), weights.config.s2);
  onWarning?.(`${pre} is missing; images cannot be used`);
  return undefined;
}

/** Re-exported: the template a folder gets without --conv-mode (text/conv_mode.ts). */
export { defaultConvMode };

export const loadModel = (dir: string = DEFAULT_MODEL_DIR, opts?: LoadModelOptions): Promise<Model> => Model.load(dir, opts);
