// The bundled model does its job: the held-out questions of tools/shapes/evaluate.py (pictures drawn
// with a seed that training never saw) asked through the TypeScript runtime, greedy, exact match.
// The PyTorch figures in results.json come from the same folder read by tools/vila_torch.py.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_DIR } from '../../src/default_model.js';
import { Model } from '../../src/model.js';

const heldout = join(import.meta.dirname, '../fixtures/vila-shapes-heldout');
const WEIGHT_FILES = ['llm/model.safetensors', 'vision_tower/model.safetensors', 'mm_projector/model.safetensors'];

interface Question { images: string[]; question: string; answer: string }
interface Results { model_weights_sha256: string; questions: number; accuracy_reference: number; accuracy_trained_graph: number; answers: string[] }

// The model is trained by tools/shapes/train.py and committed with its PyTorch results; both are required.
const haveModel = existsSync(join(DEFAULT_MODEL_DIR, 'config.json')) && existsSync(join(heldout, 'results.json'));
const questions: Question[] = readFileSync(join(heldout, 'questions.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Question);
const results = haveModel ? (JSON.parse(readFileSync(join(heldout, 'results.json'), 'utf8')) as Results) : undefined;

/** sha256 over the sha256 digests of the weight files, as evaluate.py's weights_digest. */
function weightsDigest(dir: string): string {
  const h = createHash('sha256');
  for (const f of WEIGHT_FILES) h.update(createHash('sha256').update(readFileSync(join(dir, f))).digest());
  return h.digest('hex');
}

describe('vila-shapes on its held-out questions (ref backend, greedy)', () => {
  const answers: string[] = [];
  let model: Model;
  beforeAll(async () => {
    model = await Model.load(DEFAULT_MODEL_DIR);
  });

  it('the PyTorch results belong to the bundled weights and cover every question', () => {
    expect(haveModel, `${DEFAULT_MODEL_DIR} and ${heldout}/results.json`).toBe(true);
    expect(results!.model_weights_sha256).toBe(weightsDigest(DEFAULT_MODEL_DIR));
    expect(results!.questions).toBe(questions.length);
    expect(results!.answers).toHaveLength(questions.length);
    expect(questions.length).toBeGreaterThanOrEqual(300);
  });

  it('answers every held-out question', async () => {
    for (const q of questions) {
      const r = await model.generate({
        prompt: q.question, images: q.images.map((p) => join(heldout, p)), maxNewTokens: 16, sampling: { temperature: 0 },
      });
      answers.push(r.text.trim());
    }
    expect(answers).toHaveLength(questions.length);
  }, 600_000);

  it('at least 95% exact match, and within 1 point of the PyTorch model', () => {
    const right = answers.filter((a, i) => a === questions[i]!.answer).length;
    const accuracy = right / questions.length;
    const misses = answers.map((a, i) => ({ q: questions[i]!.question, want: questions[i]!.answer, got: a })).filter((m) => m.got !== m.want);
    console.info(`vila-shapes held-out: ${right}/${questions.length} (${(accuracy * 100).toFixed(1)}%) through the TypeScript runtime; PyTorch ${(results!.accuracy_reference * 100).toFixed(1)}%`);
    expect(accuracy, JSON.stringify(misses.slice(0, 20))).toBeGreaterThanOrEqual(0.95);
    expect(Math.abs(accuracy - results!.accuracy_reference)).toBeLessThanOrEqual(0.01);
    expect(Math.abs(accuracy - results!.accuracy_trained_graph)).toBeLessThanOrEqual(0.01);
    // answer by answer, the runtime says what PyTorch says (float32 vs float64 sums may flip a near tie)
    const differ = answers.filter((a, i) => a !== results!.answers[i]).length;
    expect(differ).toBeLessThanOrEqual(Math.floor(0.01 * questions.length));
  });
});
