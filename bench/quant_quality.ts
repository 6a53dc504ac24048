// Quality of int4 quantization on the bundled vila-shapes: the bf16 model, round-to-nearest and
// AWQ (calibrated on 64 and on 256 conversations of test/fixtures/vila-shapes-calib; with 256, also
// each of its two searches alone) scored on
// the 300 held-out questions: exact-match accuracy, answer perplexity, and the mean
// KL(bf16 ‖ int4) per answer token, with a paired comparison of AWQ against RTN question by
// question (bootstrap 95% interval of the ratio of mean KLs). Writes
// bench/results/quant-quality.json and quant-quality.svg.
//
//   npx tsx bench/quant_quality.ts [--group-size 64] [--out bench/results]

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_MODEL_DIR } from '../src/default_model.js';
import { readQuestions, scoreQuestions, type QuestionScores } from '../src/eval/questions.js';
import { Model } from '../src/model.js';
import { quantizeModel } from '../src/quant/quantize_model.js';
import { escapeXml } from './chart.js';

const root = join(import.meta.dirname, '..');
const { values } = parseArgs({ options: { 'group-size': { type: 'string', default: '64' }, out: { type: 'string', default: join(root, 'bench/results') } } });
const G = Number(values['group-size']);
const heldout = join(root, 'test/fixtures/vila-shapes-heldout/questions.jsonl');
const calib = join(root, 'test/fixtures/vila-shapes-calib/questions.jsonl');

interface Row { name: string; scores: QuestionScores; quantizeSeconds?: number }

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)]!;
}

/** Bootstrap 95% interval of mean(a)/mean(b) over paired questions (fixed seed). */
function bootstrapRatio(a: number[], b: number[]): [number, number] {
  let s = 12345;
  const rand = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const ratios: number[] = [];
  for (let r = 0; r < 2000; r++) {
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < a.length; i++) {
      const j = Math.floor(rand() * a.length);
      sa += a[j]!;
      sb += b[j]!;
    }
    ratios.push(sa / sb);
  }
  ratios.sort((x, y) => x - y);
  return [ratios[50]!, ratios[1949]!];
}

function svg(rows: Row[], notes: Map<string, string>): string {
  const W = 900;
  const LABEL = 230;
  const BAR = 420;
  const metrics: { title: string; get: (s: QuestionScores) => number; fmt: (v: number) => string }[] = [
    { title: 'mean KL(bf16 ‖ model) per answer token (lower is better; × RTN with its bootstrap 95% interval)', get: (s) => s.klVsReference ?? 0, fmt: (v) => v.toExponential(2) },
    { title: 'answer perplexity − 1 (lower is better)', get: (s) => s.perplexity - 1, fmt: (v) => (1 + v).toFixed(5) },
    { title: 'held-out exact match (300 questions: one question is 0.33 points)', get: (s) => s.accuracy, fmt: (v) => `${(100 * v).toFixed(1)}%` },
  ];
  const parts: string[] = [];
  let y = 64;
  for (const m of metrics) {
    parts.push(`<text x="12" y="${y}" font-weight="bold" font-size="13">${escapeXml(m.title)}</text>`);
    y += 8;
    const max = Math.max(...rows.map((r) => m.get(r.scores)));
    for (const r of rows) {
      const v = m.get(r.scores);
      const w = max > 0 ? Math.max(1, (BAR * v) / max) : 0;
      parts.push(`<text x="${LABEL - 8}" y="${y + 13}" text-anchor="end" font-size="12">${escapeXml(r.name)}</text>`);
      parts.push(`<rect x="${LABEL}" y="${y + 3}" width="${w.toFixed(1)}" height="13" fill="${r.name.startsWith('AWQ') ? '#2f6fb3' : r.name.startsWith('RTN') ? '#e08a2c' : '#9aa3ad'}"/>`);
      const note = m === metrics[0] ? notes.get(r.name) : undefined;
      parts.push(`<text x="${(LABEL + w + 6).toFixed(1)}" y="${y + 13}" font-size="12">${escapeXml(m.fmt(v) + (note === undefined ? '' : `  ${note}`))}</text>`);
      y += 18;
    }
    y += 22;
  }
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y + 10}" viewBox="0 0 ${W} ${y + 10}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="12" y="22" font-size="15" font-weight="bold">int4 quality on vila-shapes (300 held-out questions, group size ${G})</text>`,
    `<text x="12" y="38" font-size="11" fill="#555">bf16 = the trained model; RTN = round to nearest; AWQ calibrated on conversations of test/fixtures/vila-shapes-calib</text>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'vila-quant-quality-'));
  try {
    const items = readQuestions(heldout);
    const reference = await Model.load(DEFAULT_MODEL_DIR);
    const rows: Row[] = [];
    const score = async (name: string, dir: string, quantizeSeconds?: number): Promise<void> => {
      process.stderr.write(`scoring ${name} …\n`);
      const scores = await scoreQuestions(await Model.load(dir), items, { reference });
      rows.push({ name, scores, ...(quantizeSeconds === undefined ? {} : { quantizeSeconds }) });
      process.stderr.write(
        `  ${name}: ${scores.correct}/${scores.questions}, perplexity ${scores.perplexity.toFixed(5)}, KL ${scores.klVsReference!.toExponential(3)}\n`,
      );
    };
    await score('bf16 (as trained)', DEFAULT_MODEL_DIR);
    const variants: { name: string; method: 'rtn' | 'awq'; samples?: number; search?: 'scale' | 'clip' }[] = [
      { name: 'RTN int4', method: 'rtn' },
      { name: 'AWQ int4 (64 calib.)', method: 'awq', samples: 64 },
      { name: 'AWQ int4 (256 calib.)', method: 'awq', samples: 256 },
      { name: 'AWQ scale only (256)', method: 'awq', samples: 256, search: 'scale' },
      { name: 'AWQ clip only (256)', method: 'awq', samples: 256, search: 'clip' },
    ];
    for (const v of variants) {
      const out = join(tmp, v.name.replace(/\W+/g, '-'));
      process.stderr.write(`quantizing ${v.name} …\n`);
      const t0 = performance.now();
      await quantizeModel(DEFAULT_MODEL_DIR, out, {
        method: v.method, groupSize: G, ...(v.samples === undefined ? {} : { calib, calibSamples: v.samples }),
        ...(v.search === undefined ? {} : { awqSettings: { searchScales: v.search === 'scale', searchClip: v.search === 'clip' } }),
      });
      await score(v.name, out, (performance.now() - t0) / 1000);
    }
    const rtn = rows.find((r) => r.name.startsWith('RTN'))!.scores.klPerQuestion!;
    const paired = rows.filter((r) => r.name.startsWith('AWQ')).map((r) => {
      const awq = r.scores.klPerQuestion!;
      const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
      return {
        name: r.name,
        klRatioVsRtn: mean(awq) / mean(rtn),
        ci95: bootstrapRatio(awq, rtn),
        questionsBetter: awq.filter((v, i) => v < rtn[i]!).length,
        questionsWorse: awq.filter((v, i) => v > rtn[i]!).length,
        medianKl: median(awq),
        medianKlRtn: median(rtn),
      };
    });
    const report = {
      date: new Date().toISOString(),
      model: 'models/vila-shapes',
      groupSize: G,
      heldout: 'test/fixtures/vila-shapes-heldout (300 questions, seed 424242)',
      calibration: 'test/fixtures/vila-shapes-calib (seed 31337)',
      rows: rows.map((r) => ({ name: r.name, quantizeSeconds: r.quantizeSeconds, ...r.scores, answers: undefined, klPerQuestion: undefined })),
      pairedVsRtn: paired,
    };
    mkdirSync(values.out!, { recursive: true });
    writeFileSync(join(values.out!, 'quant-quality.json'), `${JSON.stringify(report, null, 2)}\n`);
    const notes = new Map(paired.map((p) => [p.name, `×${p.klRatioVsRtn.toFixed(2)} (${p.ci95.map((x) => x.toFixed(2)).join('–')})`]));
    writeFileSync(join(values.out!, 'quant-quality.svg'), svg(rows, notes));
    console.log('| model | exact match | answer perplexity | KL(bf16 ‖ model) per answer token | quantize time |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) {
      const s = r.scores;
      console.log(`| ${r.name} | ${s.correct}/${s.questions} (${(100 * s.accuracy).toFixed(1)}%) | ${s.perplexity.toFixed(5)} | ${s.klVsReference!.toExponential(3)} | ${r.quantizeSeconds === undefined ? '' : `${r.quantizeSeconds.toFixed(0)} s`} |`);
    }
    for (const p of paired) {
      console.log(`${p.name}: KL ${p.klRatioVsRtn.toFixed(3)}× RTN's (bootstrap 95% ${p.ci95.map((x) => x.toFixed(3)).join('–')}); lower on ${p.questionsBetter}, higher on ${p.questionsWorse} of ${items.length} questions`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
