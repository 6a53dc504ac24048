#!/usr/bin/python3
"""Deterministic test images for the tiny VILA fixtures (test/fixtures/images/).

Every image has a size different from the tiny vision towers' image_size, so the
resize / pad paths of preprocessing are exercised:

  gradient_97x61.png  RGB, wide: colour gradient, a disc, a rectangle, a diagonal line
  photo_200x150.jpg   RGB JPEG (quality 92, 4:4:4 chroma so decoders need no chroma
                      upsampling and libjpeg(-turbo) islow IDCT is exact-integer): shapes + noise
  rgba_45x80.png      RGBA, tall: alpha varies (VILA's .convert("RGB") simply drops alpha)
  gray_50x50.png      8-bit greyscale (mode L; .convert("RGB") replicates the channel)

Run with Debian's python (PIL 9.4, numpy 1.24):
  /usr/bin/python3 tools/make_test_images.py --out test/fixtures/images
"""
import argparse
import os

import numpy as np
from PIL import Image


def gradient_97x61() -> Image.Image:
    w, h = 97, 61
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / (w - 1)
    g = 255 * y / (h - 1)
    b = 255 * (1 - (x + y) / (w + h - 2))
    img = np.stack([r, g, b], -1)
    disc = (x - 30) ** 2 + (y - 28) ** 2 < 15 ** 2
    img[disc] = [250, 240, 20]
    img[40:55, 60:90] = [20, 30, 200]
    line = np.abs((x - 5) * 0.5 - y) < 1.0
    img[line] = [0, 0, 0]
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def photo_200x150() -> Image.Image:
    w, h = 200, 150
    rng = np.random.RandomState(1234)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = np.zeros((h, w, 3))
    img[..., 0] = 120 + 80 * np.sin(x / 17.0)
    img[..., 1] = 100 + 90 * np.cos(y / 11.0)
    img[..., 2] = 60 + 60 * np.sin((x + y) / 23.0)
    img[(x - 140) ** 2 / 40 ** 2 + (y - 60) ** 2 / 25 ** 2 < 1] = [230, 60, 70]
    img[90:140, 20:80] = [40, 200, 90]
    img += rng.normal(0, 18, img.shape)
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def rgba_45x80() -> Image.Image:
    w, h = 45, 80
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    rgb = np.zeros((h, w, 3))
    rgb[..., 0] = 200 * (y / (h - 1))
    rgb[..., 1] = 255 * ((x // 5 + y // 5) % 2)
    rgb[..., 2] = 128 + 100 * np.sin(x / 4.0)
    alpha = 255 * (x / (w - 1))
    alpha[(x - 22) ** 2 + (y - 50) ** 2 < 12 ** 2] = 0  # fully transparent hole (RGB still defined)
    img = np.concatenate([rgb, alpha[..., None]], -1)
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGBA")


def gray_50x50() -> Image.Image:
    w = h = 50
    rng = np.random.RandomState(77)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    img = 128 + 100 * np.cos(np.hypot(x - 25, y - 25) / 3.0) + rng.normal(0, 10, (h, w))
    img[5:15, 30:45] = 255
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "L")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    gradient_97x61().save(os.path.join(args.out, "gradient_97x61.png"), optimize=False)
    photo_200x150().save(os.path.join(args.out, "photo_200x150.jpg"), quality=92, subsampling=0)
    rgba_45x80().save(os.path.join(args.out, "rgba_45x80.png"), optimize=False)
    gray_50x50().save(os.path.join(args.out, "gray_50x50.png"), optimize=False)
    for n in sorted(os.listdir(args.out)):
        p = os.path.join(args.out, n)
        im = Image.open(p)
        print(f"{n}: {im.size[0]}x{im.size[1]} {im.mode} {os.path.getsize(p)} bytes")


if __name__ == "__main__":
    main()
