// The model that ships with the project: vila-shapes, a small VILA 1.5 trained on pictures of
// shapes (models/vila-shapes/README.md). Every command and loadModel() use it when no folder is given.

import { fileURLToPath } from 'node:url';

/** Absolute path of models/vila-shapes, found from this file (src/ or dist/), not from the cwd. */
export const DEFAULT_MODEL_DIR = fileURLToPath(new URL('../models/vila-shapes', import.meta.url));
