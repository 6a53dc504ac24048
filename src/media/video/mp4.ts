// MP4 demuxing with mp4box (gpac/mp4box.js): the first video track, its sample table (stts/ctts
// times, stss sync samples) and its edit list, turned into the list of frames a player shows, in
// DISPLAY order. That list is what the frame indices of upstream's opencv_extract_frames count:
// OpenCV reads frames through FFmpeg, whose mov demuxer applies the edit list (libavformat/mov.c
// mov_fix_index: samples whose composition time lies before the edit's media_time are decoded but
// not shown). The decoders (ffmpeg_system.ts, ffmpeg_wasm.ts) pick frames by this display index,
// and the tests check that FFmpeg's own count agrees with this table on every test clip.

import { open } from 'node:fs/promises';
import { createFile, MP4BoxBuffer, type Movie, type Sample, type Track } from 'mp4box';
import { FormatError, InputError } from '../../errors.js';

/** The video codecs the decoders are tested on, by sample entry (MP4 codec string prefix). */
const CODECS: Readonly<Record<string, string>> = { avc1: 'h264', avc3: 'h264', hvc1: 'hevc', hev1: 'hevc', vp09: 'vp9' };

/** One shown frame. */
export interface DisplayFrame {
  /** Sample number in decode order (0-based, as in the sample table). */
  readonly sample: number;
  /** Composition time in track timescale units. */
  readonly cts: number;
  /** Presentation time in seconds after the edit list (0 = the first shown frame of a plain file). */
  readonly time: number;
  /** A sync sample (stss), i.e. a key frame. */
  readonly sync: boolean;
}

export interface VideoTrackInfo {
  readonly file: string;
  /** 'h264', 'hevc' or 'vp9'. */
  readonly codec: string;
  /** The RFC 6381 codec string, e.g. avc1.64001f. */
  readonly codecString: string;
  readonly trackId: number;
  readonly width: number;
  readonly height: number;
  readonly timescale: number;
  /** Samples stored in the track (decode order), including any the edit list hides. */
  readonly samples: number;
  /** The frames shown, in display order: `frames[k]` is frame number k. */
  readonly frames: readonly DisplayFrame[];
}

/** Top-level box types an MP4 / QuickTime file may start with. */
const FIRST_BOXES = new Set(['ftyp', 'styp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pdin', 'sidx', 'uuid', 'moof']);

const CHUNK = 1 << 20;

/** Read the first video track of an MP4 file: codec, size and the display-order frame table. */
export async function readMp4(path: string): Promise<VideoTrackInfo> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(code === 'ENOENT' ? 'video file not found' : `cannot open video file: ${(e as Error).message}`, path);
  }
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(12);
    await fh.read(head, 0, 12, 0);
    checkMagic(head, size, path);
    const file = createFile(false);
    let info: Movie | undefined;
    let error: string | undefined;
    file.onReady = (m) => (info = m);
    file.onError = (module, message) => (error ??= `${module}: ${message}`);
    // Feed the file in chunks from where mp4box asks next (it skips mdat payloads), until the
    // moov is parsed; a fragmented file is read to the end so every moof's samples are known.
    let pos = 0;
    while (pos < size && error === undefined && (info === undefined || info.isFragmented)) {
      const len = Math.min(CHUNK, size - pos);
      const ab = new ArrayBuffer(len);
      await fh.read(new Uint8Array(ab), 0, len, pos);
      const next = file.appendBuffer(MP4BoxBuffer.fromArrayBuffer(ab, pos), pos + len >= size);
      pos = typeof next === 'number' && next > pos ? next : pos + len;
    }
    file.flush();
    if (error !== undefined) throw new FormatError(`not a readable MP4 file (${error})`, path);
    if (info === undefined) throw new FormatError('not an MP4 file: no movie box (moov) found', path);
    const track = info.videoTracks[0];
    if (track === undefined) throw new FormatError('the MP4 file has no video track', path);
    const fourcc = track.codec.slice(0, 4);
    const codec = CODECS[fourcc];
    if (codec === undefined) {
      throw new FormatError(`unsupported video codec '${track.codec}' (supported: H.264 avc1/avc3, HEVC hvc1/hev1, VP9 vp09)`, path);
    }
    const samples = file.getTrackSamplesInfo(track.id);
    const frames = displayFrames(samples, track, info.timescale, path);
    if (frames.length === 0) throw new FormatError('the video track has no frames', path);
    return {
      file: path,
      codec,
      codecString: track.codec,
      trackId: track.id,
      width: track.video?.width ?? track.track_width,
      height: track.video?.height ?? track.track_height,
      timescale: track.timescale,
      samples: samples.length,
      frames,
    };
  } finally {
    await fh.close();
  }
}

function checkMagic(head: Buffer, size: number, path: string): void {
  if (size >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) {
    throw new FormatError('WebM/Matroska is not supported, only MP4: remux it first (ffmpeg -i in.webm -c copy out.mp4)', path);
  }
  if (size < 8 || !FIRST_BOXES.has(head.toString('latin1', 4, 8))) throw new FormatError('not an MP4 file', path);
}

/**
 * The shown frames in display order: samples sorted by composition time, then the edit list
 * (ISO/IEC 14496-12 §8.6.6): each edit with media_time ≥ 0 shows the samples whose composition
 * time t satisfies media_time ≤ t < media_time + segment_duration (converted from the movie to the
 * track timescale; 0 = to the end); an empty edit (media_time −1) only delays the presentation.
 * Without an edit list every sample is shown.
 */
export function displayFrames(samples: readonly Sample[], track: Pick<Track, 'edits' | 'timescale'>, movieTimescale: number, path: string): DisplayFrame[] {
  const byCts = [...samples].sort((a, b) => a.cts - b.cts || a.number - b.number);
  const ts = track.timescale;
  const edits = track.edits ?? [];
  const frame = (s: Sample, time: number): DisplayFrame => ({ sample: s.number, cts: s.cts, time, sync: s.is_sync });
  if (edits.length === 0) {
    const t0 = byCts[0]?.cts ?? 0;
    return byCts.map((s) => frame(s, (s.cts - t0) / ts));
  }
  const out: DisplayFrame[] = [];
  let shown = 0; // presentation time reached so far, in track timescale units
  for (const e of edits) {
    const duration = (e.segment_duration * ts) / movieTimescale;
    if (e.media_time === -1) {
      shown += duration;
      continue;
    }
    if (e.media_rate_integer !== 1) throw new FormatError(`unsupported edit list: media rate ${e.media_rate_integer} (only 1 is)`, path);
    const start = e.media_time;
    const end = e.segment_duration === 0 ? Infinity : start + duration;
    for (const s of byCts) if (s.cts >= start && s.cts < end) out.push(frame(s, (shown + s.cts - start) / ts));
    shown += duration;
  }
  return out;
}
