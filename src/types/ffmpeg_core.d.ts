// @ffmpeg/core 0.12 ships no types: its default export is an Emscripten MODULARIZE/EXPORT_ES6
// factory (typed by @types/emscripten) whose module adds ffmpeg.wasm's own helpers
// (src/bind/ffmpeg/bind.js in ffmpegwasm/ffmpeg.wasm: exec, setLogger, reset, ret).

/// <reference types="emscripten" />

declare module '@ffmpeg/core' {
  export interface FFmpegCoreModule extends EmscriptenModule {
    FS: typeof FS;
    /** Run ffmpeg's main() with "./ffmpeg -nostdin -y" prepended; returns its exit status. */
    exec(...args: string[]): number;
    /** Clear the exit status and timeout before the next exec. */
    reset(): void;
    setLogger(logger: (m: { type: 'stdout' | 'stderr'; message: string }) => void): void;
  }
  const createFFmpegCore: EmscriptenModuleFactory<FFmpegCoreModule>;
  export default createFFmpegCore;
}
