// Writing RGB images as PNG files, with sharp (loaded lazily, as for decoding).

import type { RGBImage } from './decode.js';
import { loadSharp } from './decode.js';

/** Write an 8-bit RGB image to `path` as a lossless PNG. */
export async function encodePng(img: RGBImage, path: string): Promise<void> {
  const sharp = await loadSharp();
  await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(path);
}
