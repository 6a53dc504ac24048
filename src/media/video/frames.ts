// Which frames of a video VILA 1.5 looks at. Upstream (NVlabs/VILA, vila1.5 era,
// llava/mm_utils.py get_frame_from_vcap, called by opencv_extract_frames from
// llava/eval/run_vila.py with --num-video-frames, default 6; training and eval use
// config.num_video_frames, 8 for the VILA 1.5 checkpoints):
//
//   if fps == 0 or frame_count == 0:           N black 720x720 images
//   frame_interval = frame_count // num_frames
//   if frame_interval == 0 and frame_count <= 1: N black 720x720 images
//   frame_indices = np.linspace(0, frame_count - 2, num_frames, dtype=int)
//   if frame_count >= num_frames: read frames in order, keep frame `count` if count in frame_indices
//   else (short video): keep every frame, then LEFT-pad with black images of the frame's size
//        images = [Image.new("RGB", (w, h))] * (num_frames - len(images)) + images
//
// Notes on the rule as implemented here:
// - frame_count − 2 (not − 1): the vila1.5 branch's variant. Later upstream code samples up to
//   frame_count − 1; this runtime follows the checkpoints it runs. So the last frame is never
//   picked when frame_count > num_frames.
// - dtype=int truncates toward zero (the linspace values are ≥ 0, so it is a floor).
// - frame_count = frames shown after the edit list (mp4.ts), not the container's sample count.
// - frame_count == num_frames: the linspace repeats index 0 (step < 1), and upstream's
//   `count in frame_indices` loop then collects only num_frames − 1 images and raises "Did not
//   find enough frames". Here the repeated index is kept (that frame is fed twice), so such a
//   video still gives num_frames images.
// - frame_count == 0 is an error here (mp4.ts), not N black images: there is no video to describe.

/** One image fed to the model: a video frame by display index, or a black padding image. */
export type FramePick = { readonly kind: 'frame'; readonly index: number } | { readonly kind: 'black'; readonly width: number; readonly height: number };

/** np.linspace(start, stop, num, dtype=int) for start, stop ≥ 0, as numpy computes it. */
export function linspaceInt(start: number, stop: number, num: number): number[] {
  if (num <= 0) return [];
  if (num === 1) return [Math.trunc(start)];
  // numpy: step = (stop - start) / div; y = arange(num) * step + start; y[-1] = stop.
  const step = (stop - start) / (num - 1);
  const out: number[] = [];
  for (let i = 0; i < num; i++) out.push(Math.trunc(i === num - 1 ? stop : i * step + start));
  return out;
}

/**
 * The images get_frame_from_vcap returns for a video of `frameCount` shown frames of size
 * width × height, as display indices and black paddings, in the order they are fed.
 */
export function pickFrames(frameCount: number, numFrames: number, width: number, height: number): FramePick[] {
  if (!Number.isInteger(numFrames) || numFrames < 1) throw new RangeError(`number of video frames must be a whole number ≥ 1, got ${numFrames}`);
  const black = (w: number, h: number): FramePick => ({ kind: 'black', width: w, height: h });
  if (frameCount <= 1 && Math.floor(frameCount / numFrames) === 0) return Array.from({ length: numFrames }, () => black(720, 720));
  if (frameCount >= numFrames) return linspaceInt(0, frameCount - 2, numFrames).map((index) => ({ kind: 'frame', index }));
  const pad = Array.from({ length: numFrames - frameCount }, () => black(width, height));
  const all = Array.from({ length: frameCount }, (_, index): FramePick => ({ kind: 'frame', index }));
  return [...pad, ...all];
}

/** The distinct frame indices to decode, ascending. */
export function framesToDecode(picks: readonly FramePick[]): number[] {
  const set = new Set<number>();
  for (const p of picks) if (p.kind === 'frame') set.add(p.index);
  return [...set].sort((a, b) => a - b);
}
