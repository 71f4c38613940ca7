/**
 * Input tensors for the CLI: read from files (--loadInputs: .npz, .npy, .pb, raw .bin) or made as
 * seeded random values (exec's default, and INT8 calibration without data).
 */
import * as fs from 'fs';
import { InputError } from '../errors';
import { DType } from '../ir/dtype';
import { Tensor } from '../ir/tensor';
import { parseNpy, parseNpz } from '../io/npy';
import { parseTensor } from '../onnx/parse';
import type { EngineIO } from '../kernel/plan';
import { checkHostBytes } from './engine-flags';
import { seededTensors } from '../api/calibrate';

const BIN_CTORS: Partial<Record<DType, { BYTES_PER_ELEMENT: number; new (b: ArrayBuffer): ArrayLike<number | bigint> }>> = {
  float32: Float32Array, float64: Float64Array, int32: Int32Array, int64: BigInt64Array, uint8: Uint8Array, int8: Int8Array, bool: Uint8Array,
};

/** Inputs from an .npz, or name:file pairs (.npy, or raw little-endian .bin in the input's dtype). */
export function loadInputs(spec: string, inputs: readonly EngineIO[]): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const read = (file: string) => {
    try { return fs.readFileSync(file); } catch (e) { throw new InputError(`--loadInputs: cannot read ${file} (${(e as NodeJS.ErrnoException).code})`); }
  };
  if (spec.endsWith('.npz') && !spec.includes(':')) {
    const arrays = parseNpz(read(spec), spec);
    const unknown = [...arrays.keys()].filter((k) => !byName.has(k));
    if (unknown.length && arrays.size === 1 && inputs.length === 1) {
      // one array for a one-input model: bind it whatever its name
      out.set(inputs[0].name, [...arrays.values()][0]);
    } else if (unknown.length) {
      throw new InputError(`--loadInputs: ${spec} holds ${unknown.map((k) => `'${k}'`).join(', ')}, which are not inputs of the model (inputs: ${[...byName.keys()].join(', ')})`);
    } else for (const [k, t] of arrays) out.set(k, t);
  } else {
    for (const part of spec.split(',')) {
      const k = part.indexOf(':');
      if (k <= 0) throw new InputError(`--loadInputs: '${part}' is not name:file (or give one .npz)`);
      const name = part.slice(0, k), file = part.slice(k + 1);
      const io = byName.get(name);
      if (!io) throw new InputError(`--loadInputs: '${name}' is not an input (inputs: ${[...byName.keys()].join(', ')})`);
      const npzKey = /^(.*\.npz)(?::(.+))?$/.exec(file);
      if (npzKey) {
        // name:file.npz[:key]: the array `key` (default: the input's name, or the only array)
        const arrays = parseNpz(read(npzKey[1]), npzKey[1]);
        const key = npzKey[2] ?? (arrays.has(name) ? name : arrays.size === 1 ? [...arrays.keys()][0] : name);
        const t = arrays.get(key);
        if (!t) throw new InputError(`--loadInputs: ${npzKey[1]} has no array '${key}' (it has ${[...arrays.keys()].join(', ')}); write ${name}:${npzKey[1]}:KEY`);
        out.set(name, t);
      } else if (file.endsWith('.npy')) out.set(name, parseNpy(read(file), file));
      else if (file.endsWith('.pb')) out.set(name, parseTensor(read(file), file));
      else {
        const C = BIN_CTORS[io.dtype];
        if (!C) throw new InputError(`--loadInputs: raw .bin input of dtype ${io.dtype} is not supported; use .npy`);
        const b = read(file);
        if (io.dims.some((d) => d < 0)) throw new InputError(`--loadInputs: ${name} has symbolic dims; give its shape with --shapes to read raw ${file}`);
        const n = io.dims.reduce((x, y) => x * y, 1);
        if (b.length !== n * C.BYTES_PER_ELEMENT) throw new InputError(`--loadInputs: ${file} has ${b.length} bytes; ${name} needs ${n * C.BYTES_PER_ELEMENT}`);
        const ab = new ArrayBuffer(b.length);
        new Uint8Array(ab).set(b);
        out.set(name, Tensor.from(io.dtype, io.dims, new C(ab) as ArrayLike<number>));
      }
    }
  }
  // numpy saves float64 by default: convert to the input's dtype when the shapes agree
  for (const [k, t] of out) {
    const io = byName.get(k);
    if (io && t.dtype !== io.dtype) out.set(k, Tensor.from(io.dtype, t.dims, t.toNumbers()));
  }
  return out;
}

/** Seeded random inputs in [-1, 1) (integers: 0..3). */
export function randomInputs(inputs: readonly EngineIO[], seed = 1): Map<string, Tensor> {
  return seededTensors(inputs, seed, (io) => checkHostBytes(io.name, io.dtype, io.dims, 'input', 'fill with random values'));
}

