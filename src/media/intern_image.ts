// Image preprocessing for the InternViT tower (VILA1.5-40b). upstream's InternVisionPreprocessor
// (NVlabs/VILA llava/model/multimodal_encoder/intern_encoder.py) reads no preprocessor_config.json:
// its `size` is {height: 448, width: 448} and its transform is hard-coded,
//   T.Resize((448, 448), BICUBIC), T.ToTensor(), T.Normalize(ImageNet mean, std).
// After mm_utils.py process_image's 'resize' (PIL image.resize((448, 448)), default BICUBIC), the
// torchvision Resize of a 448×448 PIL image is PIL's same-size copy. ToTensor is u8 / 255 in
// float32, which for every byte equals the float32 of u8 · (1/255) in float64 (checked for all
// 256 values), so the SigLIP pipeline of image.ts with this config gives the same pixels.

import { Resampling } from './resample.js';
import type { ImageProcessorConfig } from './image.js';
import { INTERN_IMAGE_SIZE } from '../model/intern_vit_config.js';

/** torchvision / ImageNet normalisation, as intern_encoder.py build_transform. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** The fixed InternViT preprocessing as an ImageProcessorConfig; `file` names the tower in messages. */
export function internImageProcessorConfig(file: string): ImageProcessorConfig {
  const size = { height: INTERN_IMAGE_SIZE, width: INTERN_IMAGE_SIZE };
  return {
    file,
    doResize: true,
    size,
    cropSize: null,
    resample: Resampling.BICUBIC,
    doRescale: true,
    rescaleFactor: 1 / 255,
    doNormalize: true,
    imageMean: IMAGENET_MEAN,
    imageStd: IMAGENET_STD,
  };
}
