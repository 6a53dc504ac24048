// A restricted unpickler for the data.pkl of a torch.save'd state dict (spec/awq.md §3.3),
// written by hand so that nothing from the file is ever executed. It knows only the protocol-2
// opcodes torch's writer emits and only the globals a state dict needs; the opcode stream is
// scanned first, so an unknown opcode or a global outside the allow-list is refused before any
// object is built. "Calling" an allowed global (REDUCE) means building a plain record here.
//
// Output: key → where the tensor's elements live (storage key within the zip's data/ folder,
// element offset, shape, stride), in file order.

import { FormatError } from '../errors.js';
import type { DType } from '../tensor.js';

export interface PickledTensor {
  /** The record name under `<prefix>/data/`. */
  readonly storageKey: string;
  readonly storageDtype: DType;
  /** Elements in the whole storage. */
  readonly storageNumel: number;
  /** Offset into the storage, in elements. */
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
}

/** torch storage classes (pickled as `torch XStorage`) → element types. */
const STORAGES: Readonly<Record<string, DType>> = {
  HalfStorage: 'f16',
  BFloat16Storage: 'bf16',
  FloatStorage: 'f32',
  DoubleStorage: 'f64',
  ShortStorage: 'i16',
  IntStorage: 'i32',
  LongStorage: 'i64',
  ByteStorage: 'u8',
  CharStorage: 'i8',
  BoolStorage: 'bool',
};

const ALLOWED_GLOBALS = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGES).map((s) => `torch.${s}`),
]);

// Opcodes (Lib/pickletools.py), with the size of their inline argument: a number of bytes, or
// 'line2' (two newline-terminated lines), 'u4' (4-byte length then bytes), 'u1' (1-byte length).
const OPS: Readonly<Record<number, { name: string; arg: number | 'line2' | 'u4' | 'u1' }>> = {
  0x80: { name: 'PROTO', arg: 1 },
  0x63: { name: 'GLOBAL', arg: 'line2' }, // c
  0x71: { name: 'BINPUT', arg: 1 }, // q
  0x72: { name: 'LONG_BINPUT', arg: 4 }, // r
  0x68: { name: 'BINGET', arg: 1 }, // h
  0x6a: { name: 'LONG_BINGET', arg: 4 }, // j
  0x28: { name: 'MARK', arg: 0 }, // (
  0x29: { name: 'EMPTY_TUPLE', arg: 0 }, // )
  0x74: { name: 'TUPLE', arg: 0 }, // t
  0x85: { name: 'TUPLE1', arg: 0 },
  0x86: { name: 'TUPLE2', arg: 0 },
  0x87: { name: 'TUPLE3', arg: 0 },
  0x7d: { name: 'EMPTY_DICT', arg: 0 }, // }
  0x73: { name: 'SETITEM', arg: 0 }, // s
  0x75: { name: 'SETITEMS', arg: 0 }, // u
  0x5d: { name: 'EMPTY_LIST', arg: 0 }, // ]
  0x61: { name: 'APPEND', arg: 0 }, // a
  0x65: { name: 'APPENDS', arg: 0 }, // e
  0x58: { name: 'BINUNICODE', arg: 'u4' }, // X
  0x4a: { name: 'BININT', arg: 4 }, // J
  0x4b: { name: 'BININT1', arg: 1 }, // K
  0x4d: { name: 'BININT2', arg: 2 }, // M
  0x8a: { name: 'LONG1', arg: 'u1' },
  0x89: { name: 'NEWFALSE', arg: 0 },
  0x88: { name: 'NEWTRUE', arg: 0 },
  0x4e: { name: 'NONE', arg: 0 }, // N
  0x52: { name: 'REDUCE', arg: 0 }, // R
  0x51: { name: 'BINPERSID', arg: 0 }, // Q
  0x62: { name: 'BUILD', arg: 0 }, // b
  0x2e: { name: 'STOP', arg: 0 }, // .
};

// The objects a state-dict pickle can build. Globals stay inert references until REDUCE.
type Value =
  | null
  | boolean
  | number
  | string
  | { kind: 'global'; ref: string }
  | { kind: 'tuple'; items: Value[] }
  | { kind: 'list'; items: Value[] }
  | { kind: 'dict'; map: Map<string | number, Value> }
  | { kind: 'storage'; key: string; dtype: DType; numel: number }
  | { kind: 'tensor'; t: PickledTensor }
  | { kind: 'mark' };

interface Op {
  code: number;
  pos: number;
  /** Start and end of the inline argument. */
  a: number;
  b: number;
}

/** Pass 1: split the stream into opcodes, refusing unknown ones and globals off the allow-list. */
function scan(bytes: Uint8Array, where: string): Op[] {
  const ops: Op[] = [];
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  for (;;) {
    if (p >= bytes.length) throw new FormatError('pickle ends without STOP', where);
    const code = bytes[p]!;
    const op = OPS[code];
    if (op === undefined) {
      throw new FormatError(`pickle opcode 0x${code.toString(16).padStart(2, '0')} ('${String.fromCharCode(code)}') at byte ${p} is not supported`, where);
    }
    let a = p + 1;
    let b: number;
    if (op.arg === 'line2') {
      const nl1 = bytes.indexOf(0x0a, a);
      const nl2 = nl1 < 0 ? -1 : bytes.indexOf(0x0a, nl1 + 1);
      if (nl2 < 0) throw new FormatError(`pickle GLOBAL at byte ${p} is truncated`, where);
      b = nl2 + 1;
      const ref = `${latin1(bytes, a, nl1)}.${latin1(bytes, nl1 + 1, nl2)}`;
      if (!ALLOWED_GLOBALS.has(ref)) throw new FormatError(`pickle GLOBAL '${ref}' at byte ${p} is not allowed in a state dict (nothing is executed)`, where);
    } else if (op.arg === 'u4') {
      if (a + 4 > bytes.length) throw new FormatError(`pickle ${op.name} at byte ${p} is truncated`, where);
      const n = dv.getUint32(a, true);
      a += 4;
      b = a + n;
    } else if (op.arg === 'u1') {
      if (a + 1 > bytes.length) throw new FormatError(`pickle ${op.name} at byte ${p} is truncated`, where);
      const n = bytes[a]!;
      a += 1;
      b = a + n;
    } else {
      b = a + op.arg;
    }
    if (b > bytes.length) throw new FormatError(`pickle ${op.name} at byte ${p} runs past the end`, where);
    ops.push({ code, pos: p, a, b });
    p = b;
    if (code === 0x2e) return ops;
  }
}

function latin1(bytes: Uint8Array, a: number, b: number): string {
  let s = '';
  for (let i = a; i < b; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** Parse a torch.save'd state dict pickle; `where` names the file/entry for errors. */
export function parseStateDict(bytes: Uint8Array, where: string): Map<string, PickledTensor> {
  const ops = scan(bytes, where);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: Value[] = [];
  const memo = new Map<number, Value>();
  const fail = (op: Op, msg: string): never => {
    throw new FormatError(`pickle ${OPS[op.code]!.name} at byte ${op.pos}: ${msg}`, where);
  };
  const pop = (op: Op): Value => {
    if (stack.length === 0) fail(op, 'stack underflow');
    const v = stack.pop()!;
    if (isMark(v)) fail(op, 'unexpected MARK');
    return v;
  };
  const popMark = (op: Op): Value[] => {
    let i = stack.length - 1;
    while (i >= 0 && !isMark(stack[i]!)) i--;
    if (i < 0) fail(op, 'no MARK on the stack');
    const items = stack.splice(i + 1);
    stack.pop();
    return items;
  };
  const int = (op: Op, v: Value, what: string): number => (typeof v === 'number' && Number.isSafeInteger(v) ? v : fail(op, `${what} is not an integer`));
  for (const op of ops) {
    switch (op.code) {
      case 0x80: // PROTO
        if (bytes[op.a]! > 5) fail(op, `protocol ${bytes[op.a]} is not supported`);
        break;
      case 0x63: {
        const nl = bytes.indexOf(0x0a, op.a);
        stack.push({ kind: 'global', ref: `${latin1(bytes, op.a, nl)}.${latin1(bytes, nl + 1, op.b - 1)}` });
        break;
      }
      case 0x71:
        memo.set(bytes[op.a]!, top(stack, op, fail));
        break;
      case 0x72:
        memo.set(dv.getUint32(op.a, true), top(stack, op, fail));
        break;
      case 0x68:
      case 0x6a: {
        const i = op.code === 0x68 ? bytes[op.a]! : dv.getUint32(op.a, true);
        if (!memo.has(i)) fail(op, `memo entry ${i} was never stored`);
        stack.push(memo.get(i)!);
        break;
      }
      case 0x28:
        stack.push({ kind: 'mark' });
        break;
      case 0x29:
        stack.push({ kind: 'tuple', items: [] });
        break;
      case 0x74:
        stack.push({ kind: 'tuple', items: popMark(op) });
        break;
      case 0x85:
      case 0x86:
      case 0x87: {
        const n = op.code - 0x84;
        const items: Value[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop(op));
        stack.push({ kind: 'tuple', items });
        break;
      }
      case 0x7d:
        stack.push({ kind: 'dict', map: new Map() });
        break;
      case 0x73:
      case 0x75: {
        const items = op.code === 0x73 ? [pop(op), pop(op)].reverse() : popMark(op);
        if (items.length % 2 !== 0) fail(op, 'odd number of items');
        const d = stack[stack.length - 1];
        if (d === undefined || typeof d !== 'object' || d === null || d.kind !== 'dict') fail(op, 'target is not a dict');
        const map = (d as { map: Map<string | number, Value> }).map;
        for (let i = 0; i < items.length; i += 2) {
          const k = items[i]!;
          if (typeof k !== 'string' && typeof k !== 'number') fail(op, 'dict key is not a string or integer');
          map.set(k as string | number, items[i + 1]!);
        }
        break;
      }
      case 0x5d:
        stack.push({ kind: 'list', items: [] });
        break;
      case 0x61:
      case 0x65: {
        const items = op.code === 0x61 ? [pop(op)] : popMark(op);
        const l = stack[stack.length - 1];
        if (l === undefined || typeof l !== 'object' || l === null || l.kind !== 'list') fail(op, 'target is not a list');
        (l as { items: Value[] }).items.push(...items);
        break;
      }
      case 0x58:
        stack.push(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes.subarray(op.a, op.b)));
        break;
      case 0x4a:
        stack.push(dv.getInt32(op.a, true));
        break;
      case 0x4b:
        stack.push(bytes[op.a]!);
        break;
      case 0x4d:
        stack.push(dv.getUint16(op.a, true));
        break;
      case 0x8a: {
        // two's complement little-endian of the given length
        let x = 0n;
        for (let i = op.b - 1; i >= op.a; i--) x = (x << 8n) | BigInt(bytes[i]!);
        const n = op.b - op.a;
        if (n > 0 && bytes[op.b - 1]! & 0x80) x -= 1n << BigInt(8 * n);
        if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < -BigInt(Number.MAX_SAFE_INTEGER)) fail(op, `integer ${x} is too large`);
        stack.push(Number(x));
        break;
      }
      case 0x89:
        stack.push(false);
        break;
      case 0x88:
        stack.push(true);
        break;
      case 0x4e:
        stack.push(null);
        break;
      case 0x52: {
        const args = pop(op);
        const fn = pop(op);
        stack.push(reduce(op, fn, args, int, fail));
        break;
      }
      case 0x51: {
        // torch persistent id: ('storage', torch.XStorage, key, location, numel)
        const pid = pop(op);
        if (!isTuple(pid) || pid.items.length !== 5 || pid.items[0] !== 'storage') fail(op, "persistent id is not ('storage', type, key, location, numel)");
        const [, type, key, , numel] = (pid as { items: Value[] }).items;
        if (!isGlobal(type) || !type.ref.startsWith('torch.') || !(type.ref.slice(6) in STORAGES)) fail(op, 'storage type is not a torch storage class');
        if (typeof key !== 'string') fail(op, 'storage key is not a string');
        stack.push({ kind: 'storage', key: key as string, dtype: STORAGES[(type as { ref: string }).ref.slice(6)]!, numel: int(op, numel!, 'storage size') });
        break;
      }
      case 0x62: {
        // BUILD: torch sets `_metadata` on the OrderedDict this way (§3.3); the state is ignored.
        pop(op);
        const target = top(stack, op, fail);
        if (typeof target !== 'object' || target === null || target.kind !== 'dict') fail(op, 'BUILD target is not a dict');
        break;
      }
      case 0x2e: {
        const result = pop(op);
        if (typeof result !== 'object' || result === null || result.kind !== 'dict') fail(op, 'the pickled object is not a dict');
        return toStateDict(result as { map: Map<string | number, Value> }, where);
      }
    }
  }
  throw new FormatError('pickle ends without STOP', where);
}

function top(stack: Value[], op: Op, fail: (op: Op, msg: string) => never): Value {
  const v = stack[stack.length - 1];
  if (v === undefined) return fail(op, 'stack is empty');
  return v;
}

const isMark = (v: Value): boolean => typeof v === 'object' && v !== null && v.kind === 'mark';
const isTuple = (v: Value | undefined): v is { kind: 'tuple'; items: Value[] } => typeof v === 'object' && v !== null && v.kind === 'tuple';
const isGlobal = (v: Value | undefined): v is { kind: 'global'; ref: string } => typeof v === 'object' && v !== null && v.kind === 'global';

/** "Call" an allowed global: only the three constructors a state dict uses, as plain records. */
function reduce(op: Op, fn: Value, args: Value, int: (op: Op, v: Value, what: string) => number, fail: (op: Op, msg: string) => never): Value {
  if (!isGlobal(fn)) return fail(op, 'callable is not a global');
  if (!isTuple(args)) return fail(op, 'arguments are not a tuple');
  const a = args.items;
  switch (fn.ref) {
    case 'collections.OrderedDict':
      if (a.length !== 0) fail(op, 'OrderedDict with arguments');
      return { kind: 'dict', map: new Map() };
    case 'torch._utils._rebuild_tensor_v2': {
      // (storage, offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (a.length < 6 || a.length > 7) fail(op, `_rebuild_tensor_v2 with ${a.length} arguments`);
      const [storage, offset, size, stride] = a;
      if (typeof storage !== 'object' || storage === null || storage.kind !== 'storage') return fail(op, 'tensor storage is not a persistent storage');
      if (!isTuple(size) || !isTuple(stride) || size.items.length !== stride.items.length) return fail(op, 'tensor size/stride are not tuples of one length');
      return {
        kind: 'tensor',
        t: {
          storageKey: storage.key,
          storageDtype: storage.dtype,
          storageNumel: storage.numel,
          offset: int(op, offset!, 'storage offset'),
          shape: size.items.map((v) => int(op, v, 'size')),
          stride: stride.items.map((v) => int(op, v, 'stride')),
        },
      };
    }
    case 'torch._utils._rebuild_parameter': {
      // (data, requires_grad, backward_hooks): the parameter is its tensor
      const t = a[0];
      if (a.length !== 3 || typeof t !== 'object' || t === null || t.kind !== 'tensor') return fail(op, '_rebuild_parameter of something other than a tensor');
      return t;
    }
    default:
      return fail(op, `global '${fn.ref}' cannot be called`);
  }
}

function toStateDict(d: { map: Map<string | number, Value> }, where: string): Map<string, PickledTensor> {
  const out = new Map<string, PickledTensor>();
  for (const [k, v] of d.map) {
    if (typeof k !== 'string') throw new FormatError(`state dict key ${k} is not a string`, where);
    if (typeof v !== 'object' || v === null || v.kind !== 'tensor') throw new FormatError(`state dict entry '${k}' is not a tensor`, where);
    out.set(k, v.t);
  }
  return out;
}
