// VILA 1.5 assembly (llava/model/llava_arch.py, prepare_inputs_labels_for_multimodal): images go
// through the vision tower and the projector; the token sequence carries IMAGE_TOKEN_INDEX
// (−200) where each image goes; every −200 is replaced, in order, by that image's projected
// rows, and the spliced sequence runs through the Llama decoder at positions 0..L−1.

import type { Backend } from '../backend.js';
import { InputError } from '../errors.js';
import { openWeights, type WeightSource } from '../io/weights.js';
import { sameShape, zeros, type F32Tensor, type Tensor } from '../tensor.js';
import { IMAGE_TOKEN_INDEX } from '../text/image_tokens.js';
import { WeightBinder, type ProgressFn } from './binder.js';
import { loadVilaConfig, type VilaConfig } from './config.js';
import { KVCache, llamaEmbed, llamaForward, llamaUnused, loadLlama, type LlamaWeights } from './llama.js';
import { loadProjector, projectorForward, type ProjectorWeights } from './projector.js';
import { s2Grid, s2ImageSize, s2VisionForward } from './s2.js';
import { s2FeatureWidth } from './s2_config.js';
import { loadVisionTower, visionFeatureTokens, visionForward, visionGrid, visionKeyPrefix, visionUnused, type VisionTowerWeights } from './vision_tower.js';

export interface WeightsLoadOptions {
  /** Called as tensors are read: bytes done, bytes in total, the tensor just read. */
  onProgress?: ProgressFn;
  /** Called once per tensor found in the files that the model does not know. */
  onUnknownTensor?: (key: string, dir: string) => void;
  /** Moves each tensor, as it is read, into the backend's own memory (Backend.adopt). */
  adopt?: <T extends Tensor>(t: T) => T;
  /**
   * Text only: the vision tower and projector are neither opened nor read (a 40B model's
   * InternViT-6B is 12 GB of bf16); prompts with images are then refused.
   */
  textOnly?: boolean;
}

export interface VisionPart {
  readonly weights: VisionTowerWeights;
  readonly projector: ProjectorWeights;
}

export class VilaWeights {
  private constructor(
    readonly config: VilaConfig,
    readonly llm: LlamaWeights,
    readonly vision: VisionPart | undefined,
    /** Keys present in the files but unknown to the model (reported, not fatal). */
    readonly unknownTensors: readonly string[],
    /** Loaded with `textOnly`: the folder has a vision tower, left unread. */
    readonly textOnly = false,
  ) {}

  /**
   * A model from weights already in memory (benchmarks build random ones of a real shape without
   * writing files). The caller vouches that the tensors have the shapes `config` implies.
   */
  static fromParts(config: VilaConfig, llm: LlamaWeights, vision?: VisionPart): VilaWeights {
    return new VilaWeights(config, llm, vision, []);
  }

  static load(root: string, opts: WeightsLoadOptions = {}): VilaWeights {
    const config = loadVilaConfig(root);
    const sources: WeightSource[] = [];
    try {
      const open = (dir: string): WeightSource => {
        const s = openWeights(dir);
        sources.push(s);
        return s;
      };
      const llmSrc = open(config.llmDir);
      const withVision = opts.textOnly !== true;
      const visionSrc = config.visionDir === undefined || !withVision ? undefined : open(config.visionDir);
      const projSrc = config.projectorDir === undefined || !withVision ? undefined : open(config.projectorDir);
      const { vision: visionCfg, select, projector: projectorType } = config;
      const hasVision = visionSrc !== undefined && projSrc !== undefined && visionCfg !== undefined && select !== undefined && projectorType !== undefined;
      // Progress counts the bytes of the tensors that will be read, known-unused ones excluded.
      let done = 0;
      let total = 0;
      const onTensor = (bytes: number, key: string): void => {
        done += bytes;
        opts.onProgress?.(done, total, key);
      };
      const llmBinder = new WeightBinder(llmSrc, '', onTensor, opts.adopt);
      const visionBinder = hasVision ? new WeightBinder(visionSrc, visionKeyPrefix(visionCfg), onTensor, opts.adopt) : undefined;
      const projBinder = hasVision ? new WeightBinder(projSrc, '', onTensor, opts.adopt) : undefined;
      const unusedVision = select === undefined || visionCfg === undefined ? undefined : visionUnused(visionCfg, select);
      total =
        llmBinder.plannedBytes((k) => !llamaUnused(k)) +
        (visionBinder?.plannedBytes((k) => !unusedVision!(k)) ?? 0) +
        (projBinder?.plannedBytes(() => true) ?? 0);
      const unknown: string[] = [];
      const finish = (b: WeightBinder, knownUnused?: (k: string) => boolean): void => {
        for (const k of b.finish(knownUnused).unknown) {
          unknown.push(`${b.source.dir}: ${k}`);
          opts.onUnknownTensor?.(k, b.source.dir);
        }
      };
      const llm = loadLlama(llmBinder, config.llm);
      finish(llmBinder, llamaUnused);
      let vision: VisionPart | undefined;
      if (hasVision && visionBinder !== undefined && projBinder !== undefined) {
        const weights = loadVisionTower(visionBinder, visionCfg, select);
        finish(visionBinder, unusedVision);
        const projector = loadProjector(projBinder, projectorType, s2FeatureWidth(visionCfg.hiddenSize, config.s2), config.llm.hiddenSize);
        finish(projBinder);
        vision = { weights, projector };
      }
      return new VilaWeights(config, llm, vision, unknown, !withVision);
    } finally {
      // Every tensor has been copied into memory; the files are no longer needed.
      for (const s of sources) s.close();
    }
  }

  /** Side of the square image the vision tower takes (pixels): the largest scale for S2. */
  get imageSize(): number | undefined {
    const { vision, s2 } = this.config;
    return vision === undefined ? undefined : s2 === undefined ? vision.imageSize : s2ImageSize(s2);
  }

  /** Vision tower + projector: pixels (3, S, S) → image tokens (n, hidden). */
  encodeImage(be: Backend, pixels: F32Tensor, name = 'image'): F32Tensor {
    const { vision: cfg, select } = this.config;
    if (this.vision === undefined || cfg === undefined || select === undefined) {
      throw new InputError(this.textOnly
        ? `the model at ${this.config.root} was loaded text only (without its vision tower); it cannot take images`
        : `the model at ${this.config.root} has no vision tower; it cannot take images`);
    }
    const s = this.imageSize!;
    const want = [cfg.channels, s, s];
    if (!sameShape(pixels.shape, want)) {
      throw new InputError(`image tensor has shape [${pixels.shape.join(', ')}], the vision tower takes [${want.join(', ')}]`);
    }
    const { s2 } = this.config;
    const features =
      s2 === undefined
        ? visionForward(be, cfg, this.vision.weights, select, pixels, `${name}.vision`)
        : s2VisionForward(be, cfg, this.vision.weights, select, s2, pixels, `${name}.vision`);
    return projectorForward(be, this.vision.projector, features, `${name}.projector`);
  }

  /** Rows each image occupies in the spliced sequence (vision tokens after feature selection and projector). */
  get tokensPerImage(): number | undefined {
    const { vision: cfg, select } = this.config;
    if (this.vision === undefined || cfg === undefined || select === undefined) return undefined;
    const { s2 } = this.config;
    const grid = s2 !== undefined && cfg.kind === 'siglip' ? s2Grid(cfg, s2) : visionGrid(cfg);
    const features = s2 !== undefined ? grid * grid : visionFeatureTokens(cfg, select);
    return this.vision.projector.kind === 'mlp_downsample' ? Math.ceil(grid / 2) ** 2 : features;
  }

  /** Checks a prompt's ids against its images before any work: placeholder count and total length. */
  checkPrompt(ids: readonly number[], images: number): number {
    const placeholders = ids.filter((t) => t === IMAGE_TOKEN_INDEX).length;
    if (placeholders !== images) {
      throw new InputError(`the prompt has ${placeholders} image placeholder(s) but ${images} image(s) were given`);
    }
    const length = ids.length - placeholders + images * (this.tokensPerImage ?? 0);
    if (length > this.config.modelMaxLength) {
      throw new InputError(`the prompt fills ${length} positions (images included); the model takes at most ${this.config.modelMaxLength}`);
    }
    return length;
  }

  /**
   * Embed a token sequence with −200 placeholders, splicing `images` (each (n_i, hidden)) in
   * order at the placeholders → (L, hidden).
   */
  embedSpliced(be: Backend, ids: readonly number[], images: readonly F32Tensor[]): F32Tensor {
    this.checkPrompt(ids, images.length);
    const d = this.config.llm.hiddenSize;
    const placeholders = images.length;
    const length = ids.length - placeholders + images.reduce((a, t) => a + t.shape[0]!, 0);
    // Text tokens are embedded in one call (−200 → 0 as upstream, then overwritten by the image).
    const text = llamaEmbed(be, this.config.llm, this.llm, Int32Array.from(ids, (t) => (t === IMAGE_TOKEN_INDEX ? 0 : t)));
    const out = zeros([length, d]);
    let row = 0;
    let image = 0;
    ids.forEach((t, i) => {
      if (t === IMAGE_TOKEN_INDEX) {
        const feats = images[image++]!;
        out.data.set(feats.data, row * d);
        row += feats.shape[0]!;
      } else {
        out.data.set(text.data.subarray(i * d, (i + 1) * d), row * d);
        row += 1;
      }
    });
    return out;
  }

  /** A KV cache for `capacity` positions, in `be`'s own memory where it has one. */
  newCache(capacity: number, be?: Backend): KVCache {
    return new KVCache(this.config.llm, capacity, be);
  }

  /** Feed embeddings at the cache's next positions; logits (1, vocab) of the last one, or (m, vocab) of all. */
  forward(be: Backend, embeds: F32Tensor, cache: KVCache, allPositions = false): F32Tensor {
    return llamaForward(be, this.config.llm, this.llm, embeds, cache, allPositions);
  }

  /** Feed token ids (no placeholders) at the cache's next positions. */
  forwardTokens(be: Backend, ids: readonly number[], cache: KVCache): F32Tensor {
    return this.forward(be, llamaEmbed(be, this.config.llm, this.llm, Int32Array.from(ids)), cache);
  }
}
