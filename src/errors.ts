// Typed errors. Library code throws these and never exits the process; only src/cli/ turns them
// into messages and exit codes. Every error names the file, tensor or field at fault.

/** Base class: `where` is the file (and tensor or field) the problem was found in. */
export class VilaError extends Error {
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(where === undefined ? message : `${where}: ${message}`);
    this.name = new.target.name;
  }
}

/** A file's bytes do not follow its format (safetensors header, protobuf, image data, ...). */
export class FormatError extends VilaError {}

/** A config file is missing, is not JSON, or has a field with a wrong or unsupported value. */
export class ConfigError extends VilaError {}

/** A checkpoint lacks a tensor the model needs, or a tensor has the wrong shape or dtype. */
export class WeightError extends VilaError {}

/** An image or video could not be read or decoded. */
export class MediaError extends VilaError {}

/** The caller's input is not usable (prompt, arguments, image count, sequence too long). */
export class InputError extends VilaError {}

/** A backend was asked for an op (or dtype combination) it does not implement. */
export class UnsupportedOpError extends VilaError {}

/** A backend cannot be created here (addon not built, no GPU, unknown name). */
export class BackendUnavailableError extends VilaError {}
