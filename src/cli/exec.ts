/**
 * `vkrt exec` (trtexec's first flags): build an engine from --onnx, run it, report.
 *   --onnx=FILE            the model
 *   --shapes=a:1x3x224x224,b:1x10   concrete input shapes
 *   --loadInputs=FILE.npz | name:file.npy,name:file.pb,name:file.bin,name:file.npz[:key]
 *                          inputs (random, seeded, when absent)
 *   --exportOutput=FILE.npz | FILE.json
 *   --iterations=N         timed runs after a warm-up (default 10)
 *   --paramMode=spec|push  how kernels receive shape facts
 *   --device=N             device index (see `vkrt devices`)
 */
import * as fs from 'fs';
import * as path from 'path';
import { InputError } from '../api/errors';
import { Device } from '../gpu/device';
import { DType } from '../ir/dtype';
import { Tensor } from '../ir/tensor';
import { parseNpy, parseNpz, writeNpz } from '../io/npy';
import { loadModel, parseTensor } from '../onnx/parse';
import { Engine } from '../runtime/engine';
import type { EngineIO } from '../build/builder';
import { flagString, parseArgs } from './args';

export function parseShapes(spec: string | undefined): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const k = part.lastIndexOf(':');
    if (k <= 0) throw new InputError(`--shapes: '${part}' is not name:DIMxDIM`);
    const name = part.slice(0, k);
    const dims = part.slice(k + 1).split('x').map(Number);
    if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new InputError(`--shapes: bad dimensions in '${part}'`);
    out[name] = dims;
  }
  return out;
}

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
  let s = seed >>> 0;
  const r = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const out = new Map<string, Tensor>();
  for (const io of inputs) {
    const n = io.dims.reduce((a, b) => a * b, 1);
    const vals = Array.from({ length: n }, () => (io.dtype.startsWith('float') ? r() * 2 - 1 : Math.floor(r() * 4)));
    out.set(io.name, Tensor.from(io.dtype, io.dims, vals));
  }
  return out;
}

export function exportOutputs(file: string, outputs: Map<string, Tensor>): void {
  if (file.endsWith('.json')) {
    const j = [...outputs].map(([name, t]) => ({ name, dimensions: t.dims.join('x'), values: Array.from(t.toNumbers()) }));
    fs.writeFileSync(file, JSON.stringify(j, null, 1));
  } else {
    fs.writeFileSync(file, writeNpz(outputs));
  }
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['onnx', 'shapes', 'loadInputs', 'exportOutput', 'iterations', 'device', 'paramMode']);
  const onnx = flagString(args, 'onnx');
  if (!onnx) throw new InputError('usage: vkrt exec --onnx=MODEL.onnx [--shapes=...] [--loadInputs=...] [--exportOutput=...] [--iterations=N]');
  const verbose = args.flags.has('verbose');
  const dev = flagString(args, 'device');
  const device = Device.create({ index: dev !== undefined ? Number(dev) : undefined });
  try {
    const t0 = performance.now();
    const model = loadModel(onnx);
    const tParse = performance.now() - t0;
    const mode = flagString(args, 'paramMode');
    if (mode && mode !== 'spec' && mode !== 'push') throw new InputError('--paramMode must be spec or push');
    // Inputs given as files fix the shapes of symbolic dims that --shapes leaves open.
    const load = flagString(args, 'loadInputs');
    const g = model.graph;
    const declared = g.inputs.filter((i) => !g.initializers.has(i)).map((name) => {
      const t = g.types.get(name);
      return { name, dtype: t?.dtype ?? 'float32', dims: (t?.shape ?? []).map((d) => (typeof d === 'number' ? d : -1)), gpu: 'f32' as const };
    });
    const shapes = parseShapes(flagString(args, 'shapes'));
    let loaded: Map<string, Tensor> | undefined;
    if (load) {
      loaded = loadInputs(load, declared.map((d) => ({ ...d, dims: shapes[d.name] ?? d.dims })));
      for (const [k, t] of loaded) if (!shapes[k]) shapes[k] = [...t.dims];
    }
    const engine = Engine.build(model, { device, inputShapes: shapes, paramMode: mode as 'spec' | 'push' | undefined, log: verbose ? (l) => console.log(`[build] ${l}`) : undefined });
    const p = engine.plan;
    console.log(`[I] Model: ${path.basename(onnx)} (${p.stats.onnxNodes} ONNX nodes) on ${device.info.name}`);
    console.log(`[I] Engine: ${p.stats.layers} layers (${p.stats.folded} nodes folded, ${p.stats.views} views), parse ${tParse.toFixed(1)} ms, build ${engine.buildMs.toFixed(1)} ms`);
    console.log(`[I] Memory: activations ${(p.arenaBytes / 1024).toFixed(1)} KiB (naive sum ${(p.naiveActivationBytes / 1024).toFixed(1)} KiB, ${((100 * p.arenaBytes) / Math.max(1, p.naiveActivationBytes)).toFixed(1)}%), weights ${(p.weightBytes / 1024).toFixed(1)} KiB`);
    const inputs = loaded ?? randomInputs(engine.inputs);
    const ctx = engine.createExecutionContext();
    let outputs = await ctx.execute(inputs);
    const iters = Number(flagString(args, 'iterations') ?? 10);
    if (!Number.isInteger(iters) || iters < 0) throw new InputError('--iterations must be a non-negative integer');
    const times: number[] = [];
    for (let i = 0; i < iters; i++) {
      const s = performance.now();
      outputs = await ctx.execute(inputs);
      times.push(performance.now() - s);
    }
    if (times.length) {
      const sorted = times.slice().sort((a, b) => a - b);
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      console.log(`[I] Latency (host wall time incl. upload/download, ${iters} runs): min ${sorted[0].toFixed(3)} ms, mean ${mean.toFixed(3)} ms, median ${pct(sorted, 50).toFixed(3)} ms, p90 ${pct(sorted, 90).toFixed(3)} ms, max ${sorted[sorted.length - 1].toFixed(3)} ms`);
      console.log(`[I] Throughput: ${(1000 / mean).toFixed(2)} qps`);
    }
    for (const [name, t] of outputs) {
      const d = t.toNumbers();
      const head = Array.from(d.slice(0, 6)).map((v) => +v.toPrecision(6)).join(', ');
      console.log(`[I] Output ${name}: ${t.dtype}[${t.dims.join('x')}] ${head}${d.length > 6 ? ', ...' : ''}`);
    }
    const exp = flagString(args, 'exportOutput');
    if (exp) {
      exportOutputs(exp, outputs);
      console.log(`[I] Outputs written to ${exp}`);
    }
    engine.dispose();
    return 0;
  } finally {
    device.dispose();
  }
}
