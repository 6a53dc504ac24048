// Streaming decode: the pieces returned one token at a time add up to decode(all ids), an emoji
// spread over four <0x..> byte tokens appears only once complete, and a malformed byte run is
// released (as U+FFFD) instead of being held back forever.

import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../src/text/load.js';
import { IncrementalDecoder } from '../../src/text/stream.js';
import type { Tokenizer } from '../../src/text/tokenizer.js';
import { incompleteUtf8Tail } from '../../src/text/utf8.js';
import { MODEL_DIRS, MODEL_NAMES, Mismatches, modelGoldens } from './goldens.js';

function streamAll(tok: Tokenizer, ids: readonly number[], skipSpecialTokens: boolean): string[] {
  const dec = new IncrementalDecoder(tok, { skipSpecialTokens });
  const out: string[] = [];
  for (let n = 1; n <= ids.length; n++) out.push(dec.next(ids.slice(0, n)));
  out.push(dec.flush(ids));
  return out;
}

describe('IncrementalDecoder', () => {
  it('holds back an emoji split across byte tokens until its last byte arrives', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    const ids = tok.encode('ok 😀 done', { addBos: false });
    const bytes = [...new TextEncoder().encode('😀')].map((b) =>
      tok.pieceToId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`),
    );
    const at = ids.indexOf(bytes[0]!);
    expect(ids.slice(at, at + 4)).toEqual(bytes); // the emoji really is four byte tokens here
    const parts = streamAll(tok, ids, true);
    expect(parts.slice(at, at + 3)).toEqual(['', '', '']);
    expect(parts[at + 3]).toBe('😀');
    expect(parts.join('')).toBe('ok 😀 done');
    for (const p of parts) expect(p).not.toContain('\uFFFD');
  });

  it('releases malformed byte runs as U+FFFD, like decode', async () => {
    const tok = await loadTokenizer(MODEL_DIRS['tinychat-awq']);
    const b = (x: number): number => tok.pieceToId(`<0x${x.toString(16).toUpperCase()}>`)!;
    const ids = [b(0xf0), b(0x9f), tok.pieceToId('a')!, b(0xe2), b(0x82)];
    const parts = streamAll(tok, ids, true);
    expect(parts.join('')).toBe(tok.decode(ids, { skipSpecialTokens: true }));
    expect(parts[2]).toBe('\uFFFD\uFFFDa'); // F0 9F then 'a': the pair can never complete
    expect(parts[5]).toBe('\uFFFD\uFFFD'); // flush gives up on the unfinished E2 82
  });

  it.each(MODEL_NAMES)('adds up to decode(ids) for every golden string (%s)', (name) => {
    return (async () => {
      const tok = await loadTokenizer(MODEL_DIRS[name]);
      const m = new Mismatches();
      for (const skip of [false, true]) {
        modelGoldens(name).hf_legacy_false.forEach((c, i) => {
          const whole = tok.decode(c.ids, { skipSpecialTokens: skip });
          m.check(`string ${i} skip=${skip}`, c.ids, whole, streamAll(tok, c.ids, skip).join(''));
        });
      }
      m.assertNone();
    })();
  });

  it('recognises unfinished UTF-8 tails', () => {
    const t = (...b: number[]): number => incompleteUtf8Tail(Uint8Array.from(b));
    expect(t(0xf0, 0x9f, 0x98)).toBe(3);
    expect(t(0x41, 0xe2)).toBe(1);
    expect(t(0xf0, 0x9f, 0x98, 0x80)).toBe(0);
    expect(t(0x80)).toBe(0);
    expect(t(0xe0, 0x80)).toBe(0); // overlong: can never complete
    expect(t(0xed, 0xa0)).toBe(0); // surrogate: can never complete
  });
});
