// Reading JSON config files with typed, located errors: every failure names the file and the
// field, and the value found.

import { existsSync, readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';

export type JsonObject = Record<string, unknown>;

export function readJsonObject(path: string): JsonObject {
  if (!existsSync(path)) throw new ConfigError('file does not exist', path);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`not valid JSON: ${(e as Error).message}`, path);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('not a JSON object', path);
  return value as JsonObject;
}

/** Typed access to the fields of one JSON object read from `file`. */
export class Fields {
  constructor(
    readonly file: string,
    readonly obj: JsonObject,
  ) {}

  static read(path: string): Fields {
    return new Fields(path, readJsonObject(path));
  }

  has(field: string): boolean {
    return this.obj[field] !== undefined && this.obj[field] !== null;
  }

  private bad(field: string, want: string): never {
    const got = this.obj[field];
    const shown = got === undefined ? 'missing' : `got ${JSON.stringify(got)}`;
    throw new ConfigError(`field '${field}' must be ${want} (${shown})`, this.file);
  }

  number(field: string, fallback?: number): number {
    const v = this.obj[field];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) return this.bad(field, 'a number');
    return v;
  }

  positiveInt(field: string, fallback?: number): number {
    const v = this.number(field, fallback);
    if (!Number.isSafeInteger(v) || v <= 0) return this.bad(field, 'a positive integer');
    return v;
  }

  int(field: string, fallback?: number): number {
    const v = this.number(field, fallback);
    if (!Number.isSafeInteger(v)) return this.bad(field, 'an integer');
    return v;
  }

  string(field: string, fallback?: string): string {
    const v = this.obj[field];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== 'string') return this.bad(field, 'a string');
    return v;
  }

  bool(field: string, fallback?: boolean): boolean {
    const v = this.obj[field];
    if ((v === undefined || v === null) && fallback !== undefined) return fallback;
    if (typeof v !== 'boolean') return this.bad(field, 'true or false');
    return v;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback?: T): T {
    const v = this.string(field, fallback);
    if (!(allowed as readonly string[]).includes(v)) return this.bad(field, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`);
    return v as T;
  }

  stringArray(field: string): string[] {
    const v = this.obj[field];
    if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) return this.bad(field, 'a list of strings');
    return v as string[];
  }

  /** Fail with a located message about a field whose value is well-typed but unsupported. */
  unsupported(field: string, why: string): never {
    throw new ConfigError(`field '${field}' = ${JSON.stringify(this.obj[field])}: ${why}`, this.file);
  }
}
