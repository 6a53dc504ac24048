#!/usr/bin/python3
"""Image fixtures and goldens for test/media (src/media/{decode,resample,image}.ts).

Run with Debian's Python, which has Pillow 9.4.0 and numpy (not the pyenv `python3` on PATH):

    /usr/bin/python3 tools/image_goldens.py

It writes small test images under test/fixtures/media/ and goldens.json next to them: for each
image the sha256 of `Image.open(p).convert('RGB')` bytes (what upstream VILA 1.5 feeds the model,
llava/mm_utils.py process_image / llava/eval/run_vila.py load_image), of PIL resizes with every
filter, of upstream's expand2square 'pad', and of the final float32 pixel_values that the vision
tower receives. Each entry also keeps a few sampled values so a failing test can say how many
samples differ and where, without committing full outputs (the fixtures stay a few hundred KB).

transformers is not installed here, so the two numeric steps of the HF image processor are
reproduced below with the exact numpy operations of transformers 4.36.2 (the version VILA 1.5
pins) image_transforms.rescale / normalize: `(u8 * scale)` in float64 then cast to float32, then
`(x - mean) / std` in float32 with mean and std as float32 arrays. HF's resize of a uint8 image is
PIL's resize (image_transforms.resize converts to PIL and calls Image.resize), so PIL itself is the
reference for every resize.
"""

import hashlib
import io
import json
import os
import struct
import sys
import zlib

import numpy as np
import PIL
from PIL import Image, ImageOps

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "media")
N_SAMPLES = 24

FILTERS = {
    "NEAREST": Image.Resampling.NEAREST,
    "BILINEAR": Image.Resampling.BILINEAR,
    "BICUBIC": Image.Resampling.BICUBIC,
    "LANCZOS": Image.Resampling.LANCZOS,
    "BOX": Image.Resampling.BOX,
    "HAMMING": Image.Resampling.HAMMING,
}


# --- content ----------------------------------------------------------------------------------


def scene(w, h, seed):
    """Smooth gradients, hard-edged blocks (bicubic overshoot gets clipped) and a little noise."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127 + 120 * np.sin(x / max(w, 1) * 6.3 + seed)
    g = 255 * y / max(h - 1, 1)
    b = 127 + 120 * np.cos((x + y) / 9.0)
    img = np.stack([r, g, b], axis=-1)
    img[h // 4 : h // 2, w // 5 : w // 2] = (255, 0, 0)
    img[h // 2 : (3 * h) // 4, w // 2 : (4 * w) // 5] = (0, 0, 0)
    img[(2 * h) // 3 :, : w // 6] = (255, 255, 255)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def alpha_ramp(w, h):
    y, x = np.mgrid[0:h, 0:w]
    a = (x * 255 // max(w - 1, 1)).astype(np.uint8)
    a[: h // 5] = 0  # fully transparent band whose colour is not white: drop vs composite differ
    a[-h // 5 :] = 255
    return a


# --- writers for what PIL cannot save --------------------------------------------------------


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png16(path, arr, color_type):
    """A 16-bit PNG (colour type 0 grey, 2 RGB, 4 grey+alpha, 6 RGBA) from a uint16 array."""
    h, w = arr.shape[:2]
    raw = b"".join(b"\x00" + arr[i].astype(">u2").tobytes() for i in range(h))
    ihdr = struct.pack(">IIBBBBB", w, h, 16, color_type, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(raw, 9)))
        f.write(png_chunk(b"IEND", b""))


def s15f16(v):
    return struct.pack(">i", int(round(v * 65536)))


def odd_icc_profile():
    """A valid RGB display profile (matrix/TRC, linear curves, odd primaries). Any colour-managed
    decoder would change the pixels; PIL ignores it, and so must we (sharp `ignoreIcc`)."""
    tags = []
    xyz = lambda X, Y, Z: b"XYZ \0\0\0\0" + s15f16(X) + s15f16(Y) + s15f16(Z)
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 256) + b"\0\0"  # gamma 1.0
    tags.append((b"wtpt", xyz(0.9642, 1.0, 0.8249)))
    tags.append((b"rXYZ", xyz(0.2, 0.1, 0.05)))
    tags.append((b"gXYZ", xyz(0.6, 0.8, 0.1)))
    tags.append((b"bXYZ", xyz(0.1642, 0.1, 0.6749)))
    for t in (b"rTRC", b"gTRC", b"bTRC"):
        tags.append((t, curve))
    desc_text = b"vila-ts odd test profile\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(desc_text)) + desc_text + b"\0" * 8 + b"\0\0\0" + b"\0" * 67
    tags.append((b"desc", desc))
    cprt = b"text\0\0\0\0" + b"public domain\0"
    tags.append((b"cprt", cprt))
    table_len = 4 + 12 * len(tags)
    offset = 128 + table_len
    table = struct.pack(">I", len(tags))
    body = b""
    for sig, data in tags:
        while (offset + len(body)) % 4:
            body += b"\0"
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    while len(body) % 4:
        body += b"\0"
    size = 128 + table_len + len(body)
    header = struct.pack(">I", size) + b"lcms" + struct.pack(">I", 0x02100000) + b"mntrRGB XYZ "
    header += struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 4 + b"\0" * 4 + b"\0" * 8
    header += b"\0" * 8 + struct.pack(">I", 0) + s15f16(0.9642) + s15f16(1.0) + s15f16(0.8249)
    header += b"\0" * 4 + b"\0" * 16 + b"\0" * 28
    assert len(header) == 128
    return header + table + body


# --- fixtures ---------------------------------------------------------------------------------


def make_images():
    os.makedirs(ROOT, exist_ok=True)
    p = lambda name: os.path.join(ROOT, name)
    names = []

    def save(name, im, **kw):
        im.save(p(name), **kw)
        names.append(name)

    rgb = scene(97, 61, 1)
    save("rgb_97x61.png", Image.fromarray(rgb))
    rgba = np.dstack([scene(97, 61, 2), alpha_ramp(97, 61)])
    save("rgba_97x61.png", Image.fromarray(rgba, "RGBA"))
    save("la_40x30.png", Image.fromarray(np.dstack([scene(40, 30, 3)[..., 1], alpha_ramp(40, 30)]), "LA"))
    save("grey_61x97.png", Image.fromarray(scene(61, 97, 4)[..., 0]))
    save("bw_31x17.png", Image.fromarray(scene(31, 17, 5)[..., 1]).convert("1"))
    pal = Image.fromarray(scene(50, 40, 6)).quantize(colors=37)
    save("palette_50x40.png", pal, transparency=3)
    save("palette_30x20.gif", Image.fromarray(scene(30, 20, 7)).quantize(colors=64))
    save("tiny_20x13.png", Image.fromarray(scene(20, 13, 8)))
    save("square_64x64.png", Image.fromarray(scene(64, 64, 9)))
    save("icc_48x32.png", Image.fromarray(scene(48, 32, 10)), icc_profile=odd_icc_profile())

    y, x = np.mgrid[0:21, 0:33]
    g16 = ((x * 2003 + y * 977) % 65536).astype(np.uint16)
    g16[:3] = (x[:3] * 9).astype(np.uint16)  # a few values below 255: PIL's I -> RGB clips, not shifts
    write_png16(p("grey16_33x21.png"), g16, 0)
    names.append("grey16_33x21.png")
    rgb16 = scene(40, 30, 11).astype(np.uint16) * 257 + np.random.RandomState(12).randint(0, 257, (30, 40, 3)).astype(np.uint16)
    write_png16(p("rgb16_40x30.png"), rgb16, 2)
    names.append("rgb16_40x30.png")
    rgba16 = np.dstack([rgb16, (alpha_ramp(40, 30).astype(np.uint16) * 257)])
    write_png16(p("rgba16_40x30.png"), rgba16, 6)
    names.append("rgba16_40x30.png")

    la16 = np.dstack([g16, (alpha_ramp(33, 21).astype(np.uint16) * 257)])
    write_png16(p("la16_33x21.png"), la16, 4)
    names.append("la16_33x21.png")

    save("cmyk_40x30.jpg", Image.fromarray(scene(40, 30, 19)).convert("CMYK"), quality=90)
    save("photo_500x333.jpg", Image.fromarray(scene(500, 333, 13)), quality=85)
    save("q444_97x61.jpg", Image.fromarray(scene(97, 61, 14)), quality=92, subsampling=0)
    save("grey_64x48.jpg", Image.fromarray(scene(64, 48, 15)[..., 2]), quality=90)
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display
    save("exif6_64x48.jpg", Image.fromarray(scene(64, 48, 16)), quality=90, exif=exif.tobytes())
    save("lossy_97x61.webp", Image.fromarray(scene(97, 61, 17)), quality=80)
    save("lossless_rgba_50x40.webp", Image.fromarray(np.dstack([scene(50, 40, 18), alpha_ramp(50, 40)]), "RGBA"), lossless=True)

    # Unreadable inputs: a truncated PNG and JPEG (Pillow: "image file is truncated") and a text
    # file with an image suffix.
    with open(p("rgb_97x61.png"), "rb") as f:
        whole = f.read()
    with open(p("truncated.png"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    with open(p("q444_97x61.jpg"), "rb") as f:
        whole = f.read()
    with open(p("truncated.jpg"), "wb") as f:
        f.write(whole[: len(whole) // 2])
    with open(p("not_an_image.png"), "w") as f:
        f.write("this is a text file, not a PNG\n")
    return names


# --- the reference pipeline -------------------------------------------------------------------


def summary(arr):
    """sha256 of the exact bytes (little-endian for floats) plus the values at indexes
    floor(i * n / N_SAMPLES) for i < N_SAMPLES, and n - 1 (duplicates removed, ascending)."""
    flat = np.ascontiguousarray(arr).reshape(-1)
    n = flat.size
    idx = sorted(set([i * n // N_SAMPLES for i in range(N_SAMPLES)] + [n - 1]))
    vals = [float(flat[i]) if flat.dtype.kind == "f" else int(flat[i]) for i in idx]
    return {"sha256": hashlib.sha256(flat.tobytes()).hexdigest(), "n": int(n), "samples": vals}


def composite_white(im):
    """The flatten-onto-white idiom (decode.ts `alpha: 'white'`, not upstream's default): paste the
    RGBA image onto white using its own alpha as the mask, then drop alpha (Pillow Paste.c
    paste_mask_RGBA, BLEND/DIV255)."""
    im = im.convert("RGBA")
    bg = Image.new("RGBA", im.size, "WHITE")
    bg.paste(im, (0, 0), im)
    return bg.convert("RGB")


def expand2square(pil_img, background_color):
    # llava/mm_utils.py process_image (VILA 1.5), verbatim logic.
    width, height = pil_img.size
    if width == height:
        return pil_img
    elif width > height:
        result = Image.new(pil_img.mode, (width, width), background_color)
        result.paste(pil_img, (0, (width - height) // 2))
        return result
    else:
        result = Image.new(pil_img.mode, (height, height), background_color)
        result.paste(pil_img, ((height - width) // 2, 0))
        return result


def hf_preprocess(image, cfg):
    """SiglipImageProcessor.preprocess (llava/model/multimodal_encoder/siglip/image_processing_siglip.py)
    with transformers 4.36.2 image_transforms: resize (PIL), rescale, normalize, channels first."""
    arr = np.array(image)
    if cfg.get("do_resize", True):
        size = cfg.get("size", {"shortest_edge": 384})
        if "shortest_edge" in size:
            h, w = arr.shape[:2]
            short, long = (w, h) if w <= h else (h, w)
            new_short, new_long = size["shortest_edge"], int(size["shortest_edge"] * long / short)
            oh, ow = (new_long, new_short) if w <= h else (new_short, new_long)
        else:
            oh, ow = size["height"], size["width"]
        arr = np.array(Image.fromarray(arr).resize((ow, oh), resample=cfg.get("resample", 3)))
    if cfg.get("do_rescale", True):
        arr = (arr.astype(np.float64) * cfg.get("rescale_factor", 1 / 255)).astype(np.float32)
    if cfg.get("do_normalize", True):
        if not np.issubdtype(arr.dtype, np.floating):
            arr = arr.astype(np.float32)
        mean = np.array(cfg.get("image_mean", [0.5] * 3), dtype=arr.dtype)
        std = np.array(cfg.get("image_std", [0.5] * 3), dtype=arr.dtype)
        arr = (arr - mean) / std
    return np.ascontiguousarray(arr.transpose(2, 0, 1)).astype(np.float32)


def process_image(path, cfg, aspect):
    """llava/mm_utils.py process_image of VILA 1.5 for one image file."""
    image = Image.open(path).convert("RGB")
    if aspect == "resize":
        crop = cfg.get("crop_size", cfg.get("size"))
        image = image.resize((crop["height"], crop["width"]))
        return hf_preprocess(image, cfg)
    mean = cfg.get("image_mean", [0.5] * 3)
    image = expand2square(image, tuple(int(x * 255) for x in mean))
    return hf_preprocess(image, cfg)


CONFIGS = {
    # VILA 1.5 SigLIP vision tower (Efficient-Large-Model/VILA1.5-3b vision_tower/preprocessor_config.json)
    "siglip384.json": {
        "do_normalize": True,
        "do_rescale": True,
        "do_resize": True,
        "image_mean": [0.5, 0.5, 0.5],
        "image_processor_type": "SiglipImageProcessor",
        "image_std": [0.5, 0.5, 0.5],
        "processor_class": "SiglipProcessor",
        "resample": 3,
        "rescale_factor": 0.00392156862745098,
        "size": {"height": 384, "width": 384},
    },
    # CLIP-style statistics (float32 rounding is not trivial), bilinear, odd size.
    "clip_stats_70.json": {
        "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
        "resample": 2,
        "rescale_factor": 0.00392156862745098,
        "size": {"height": 70, "width": 70},
    },
    # Non-square size: upstream's 'resize' branch passes (height, width) where PIL takes
    # (width, height), then the processor resizes to (height, width); both are mirrored.
    "nonsquare_40x64.json": {
        "resample": 3,
        "size": {"height": 40, "width": 64},
    },
    # shortest_edge sizing ('pad' only: upstream's 'resize' branch needs height/width).
    "shortest_edge_27.json": {
        "image_mean": [0.485, 0.456, 0.406],
        "image_std": [0.229, 0.224, 0.225],
        "resample": 1,
        "size": {"shortest_edge": 27},
    },
}


def main():
    if not PIL.__version__.startswith("9.4"):
        print(f"warning: Pillow {PIL.__version__}, goldens were designed against 9.4.0", file=sys.stderr)
    names = make_images()
    for name, cfg in CONFIGS.items():
        with open(os.path.join(ROOT, name), "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")

    out = {
        "samples": N_SAMPLES,
        "generator": {"python": sys.version.split()[0], "pillow": PIL.__version__, "numpy": np.__version__},
        "images": {},
        "resize": [],
        "pad": [],
        "tensors": [],
    }
    for name in names:
        path = os.path.join(ROOT, name)
        im = Image.open(path)
        rgb = im.convert("RGB")
        entry = {"mode": im.mode, "width": rgb.width, "height": rgb.height, "decode": summary(np.array(rgb))}
        if im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info:
            entry["composite_white"] = summary(np.array(composite_white(im)))
        if im.getexif().get(0x0112, 1) != 1:
            t = ImageOps.exif_transpose(im).convert("RGB")
            entry["exif_transpose"] = {"width": t.width, "height": t.height, **summary(np.array(t))}
        out["images"][name] = entry

        # The resize upstream applies in 'resize' mode: PIL's default filter (BICUBIC) to S x S.
        for s in (384, 64, 70, 27):
            r = rgb.resize((s, s))
            out["resize"].append({"image": name, "width": s, "height": s, "filter": "BICUBIC", **summary(np.array(r))})

        pad = expand2square(rgb, (127, 127, 127))
        out["pad"].append({"image": name, "fill": [127, 127, 127], "width": pad.width, "height": pad.height, **summary(np.array(pad))})

        for cfg_name, cfg in CONFIGS.items():
            aspects = ("pad",) if "shortest_edge" in cfg["size"] else ("resize", "pad")
            for aspect in aspects:
                t = process_image(path, cfg, aspect)
                out["tensors"].append({"image": name, "config": cfg_name, "aspect": aspect, "shape": list(t.shape), **summary(t)})

    # Every filter, non-square targets, up- and down-scaling, and a fractional source box.
    for name in ("rgb_97x61.png", "photo_500x333.jpg", "tiny_20x13.png", "grey_61x97.png"):
        rgb = Image.open(os.path.join(ROOT, name)).convert("RGB")
        for fname, f in FILTERS.items():
            for size in ((70, 70), (27, 27), (150, 41), (13, 200), (rgb.width, rgb.height // 2 + 1)):
                r = rgb.resize(size, f)
                out["resize"].append({"image": name, "width": size[0], "height": size[1], "filter": fname, **summary(np.array(r))})
            box = (3.5, 2.25, rgb.width - 0.75, rgb.height - 1.0)
            r = rgb.resize((50, 30), f, box=box)
            out["resize"].append({"image": name, "width": 50, "height": 30, "filter": fname, "box": list(box), **summary(np.array(r))})
            box = (0, 3, rgb.width, rgb.height - 2)  # integer box, width unchanged: only the vertical pass runs
            r = rgb.resize((rgb.width, 9), f, box=box)
            out["resize"].append({"image": name, "width": rgb.width, "height": 9, "filter": fname, "box": list(box), **summary(np.array(r))})

    with open(os.path.join(ROOT, "goldens.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"{len(names)} images, {len(out['resize'])} resizes, {len(out['tensors'])} tensors -> {ROOT}")


if __name__ == "__main__":
    main()
