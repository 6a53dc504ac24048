// The frame index rule (upstream get_frame_from_vcap, vila1.5 branch) and how images and videos
// become image slots of the prompt. Pure functions: no ffmpeg needed.

import { describe, expect, it } from 'vitest';
import { imageCount, mediaParts } from '../../src/media/parts.js';
import { framesToDecode, linspaceInt, pickFrames } from '../../src/media/video/frames.js';

describe('video frame indices', () => {
  it('linspaceInt equals np.linspace(0, frame_count - 2, n, dtype=int)', () => {
    // Printed by numpy 1.24: [list(np.linspace(0, fc - 2, n, dtype=int)) for fc, n in cases]
    const cases: [number, number, number[]][] = [
      [20, 8, [0, 2, 5, 7, 10, 12, 15, 18]],
      [14, 8, [0, 1, 3, 5, 6, 8, 10, 12]],
      [9, 8, [0, 1, 2, 3, 4, 5, 6, 7]],
      [8, 8, [0, 0, 1, 2, 3, 4, 5, 6]],
      [100, 6, [0, 19, 39, 58, 78, 98]],
      [1000, 8, [0, 142, 285, 427, 570, 712, 855, 998]],
      [29, 8, [0, 3, 7, 11, 15, 19, 23, 27]],
    ];
    for (const [fc, n, want] of cases) expect(linspaceInt(0, fc - 2, n)).toEqual(want);
  });

  it('never picks the last frame of a long video (frame_count - 2, the vila1.5 variant)', () => {
    const picks = pickFrames(20, 8, 64, 48);
    expect(picks.map((p) => (p.kind === 'frame' ? p.index : -1))).toEqual([0, 2, 5, 7, 10, 12, 15, 18]);
  });

  it('short videos: every frame, left-padded with black images of the frame size', () => {
    const picks = pickFrames(5, 8, 64, 48);
    expect(picks.slice(0, 3)).toEqual(Array(3).fill({ kind: 'black', width: 64, height: 48 }));
    expect(picks.slice(3)).toEqual([0, 1, 2, 3, 4].map((index) => ({ kind: 'frame', index })));
    expect(framesToDecode(picks)).toEqual([0, 1, 2, 3, 4]);
  });

  it('frame_count == n keeps the repeated index 0 (upstream would raise); one frame gives black 720x720 as upstream', () => {
    expect(framesToDecode(pickFrames(8, 8, 64, 48))).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(pickFrames(8, 8, 64, 48)).toHaveLength(8);
    expect(pickFrames(1, 6, 64, 48)).toEqual(Array(6).fill({ kind: 'black', width: 720, height: 720 }));
    expect(pickFrames(1, 1, 64, 48)).toEqual([{ kind: 'frame', index: 0 }]);
    expect(() => pickFrames(20, 0, 64, 48)).toThrow(RangeError);
  });
});

describe('media parts', () => {
  it('images then videos, or an explicit order; each video counts N images', () => {
    expect(mediaParts({ images: ['a.png'], videos: ['v.mp4'] })).toEqual([{ image: 'a.png' }, { video: 'v.mp4' }]);
    expect(imageCount({ images: ['a.png', 'b.png'], videos: ['v.mp4'] }, 8)).toBe(10);
    expect(imageCount({ videos: ['v.mp4'], videoFrames: 3 }, 8)).toBe(3);
    expect(imageCount({ media: [{ video: 'v.mp4', frames: 2 }, { image: 'a.png' }, { video: 'w.mp4' }] }, 6)).toBe(9);
    expect(() => mediaParts({ media: [], images: ['a.png'] })).toThrow(/not both/);
    expect(() => imageCount({ videos: ['v.mp4'], videoFrames: 0 }, 8)).toThrow(/whole number/);
  });
});
