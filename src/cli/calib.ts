/**
 * INT8 calibration from the command line (`vkrt exec --int8`, `vkrt quantize`): --calib names a
 * calibration cache (written by vkrt), a directory of batches (.npz by input name, or .npy for a
 * one-input model, one batch per file, in name order), or one .npz whose arrays hold the samples
 * along their first dimension (split into batches of the build's batch size). Without --calib the
 * network is calibrated on seeded random inputs drawn as exec's own (a warning says that real
 * accuracy needs representative data; the engine still serves for timing).
 */
import * as fs from 'fs';
import * as path from 'path';
import { InputError } from '../errors';
import { Model } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import type { EngineIO } from '../kernel/plan';
import { CACHE_HEADER } from '../builder/quant/cache';
import { CALIBRATION_ALGORITHMS, type CalibrationAlgorithm } from '../builder/quant/calibrators';
import { createCalibrator } from '../api/calibrate';
import type { CalibrationFeeds, Int8Calibrator } from '../builder/quant/calibrator';
import { flagString, type FlagHelp, type ParsedArgs } from './args';
import { loadInputs, randomInputs } from './inputs';

export const CALIB_VALUE_FLAGS = ['calib', 'calibAlgo', 'calibCache', 'calibBatches', 'percentile'] as const;

export const CALIB_HELP: Readonly<Record<string, FlagHelp>> = {
  calib: { value: 'FILE|DIR', description: 'INT8 calibration data: a cache written by vkrt, a directory of batches (.npz by input name or .npy), or one .npz of samples along dim 0', default: 'seeded random inputs (timing only)' },
  calibAlgo: { value: 'entropy|percentile|minmax', description: 'calibration algorithm (minmax is recommended for transformers)', default: 'entropy' },
  calibCache: { value: 'FILE', description: 'write the calibration cache here (read by later builds with --calib=FILE)' },
  calibBatches: { value: 'N', description: 'batches of seeded random inputs when no --calib is given', default: '8' },
  percentile: { value: 'P', description: 'the percentile of |x| kept by --calibAlgo=percentile', default: '99.99' },
};

/** The network's inputs with the shapes the build uses (--shapes first, then the model's). */
export function declaredInputs(model: Model, shapes: Record<string, readonly number[]>): EngineIO[] {
  const g = model.graph;
  return g.inputs.filter((i) => !g.initializers.has(i)).map((name) => {
    const t = g.types.get(name);
    const dims = shapes[name] ?? (t?.shape ?? []).map((d) => (typeof d === 'number' ? d : 1));
    return { name, dtype: t?.dtype ?? 'float32', dims: [...dims], gpu: 'f32' as const };
  });
}

function isCacheFile(file: string): boolean {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const b = Buffer.alloc(CACHE_HEADER.length);
      fs.readSync(fd, b, 0, b.length, 0);
      return b.toString('utf8') === CACHE_HEADER;
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** Splits each array of `all` along dim 0 into batches of `size` samples (the last may be short: dropped). */
function splitSamples(all: Map<string, Tensor>, inputs: readonly EngineIO[], file: string): Map<string, Tensor>[] {
  const counts = inputs.map((io) => {
    const t = all.get(io.name);
    if (!t) throw new InputError(`--calib: ${file} has no array '${io.name}' (it has ${[...all.keys()].join(', ')})`);
    if (t.dims.slice(1).join('x') !== io.dims.slice(1).join('x')) throw new InputError(`--calib: ${file}'s '${io.name}' is ${t.dims.join('x')}; samples must be Nx${io.dims.slice(1).join('x')}`);
    return Math.floor(t.dims[0] / Math.max(1, io.dims[0]));
  });
  const batches = Math.min(...counts);
  if (batches < 1) throw new InputError(`--calib: ${file} holds fewer samples than one batch of ${inputs[0]?.dims[0]}`);
  const out: Map<string, Tensor>[] = [];
  for (let b = 0; b < batches; b++) {
    const m = new Map<string, Tensor>();
    for (const io of inputs) {
      const t = all.get(io.name)!;
      const per = t.size / t.dims[0];
      const n = io.dims[0];
      const data = t.normalized().data as ArrayLike<number>;
      m.set(io.name, Tensor.from(io.dtype, io.dims, Array.prototype.slice.call(data, b * n * per, (b + 1) * n * per) as number[]));
    }
    out.push(m);
  }
  return out;
}

/** The calibrator the flags ask for; `warn` hears the random-input warning. */
export function calibratorFromFlags(args: ParsedArgs, model: Model, shapes: Record<string, readonly number[]>, warn: (line: string) => void): Int8Calibrator {
  const algo = flagString(args, 'calibAlgo') ?? 'entropy';
  if (!CALIBRATION_ALGORITHMS.includes(algo as CalibrationAlgorithm)) throw new InputError(`--calibAlgo must be one of ${CALIBRATION_ALGORITHMS.join(', ')}, got '${algo}'`);
  const pct = flagString(args, 'percentile');
  const percentile = pct === undefined ? undefined : Number(pct);
  if (percentile !== undefined && !(percentile > 0 && percentile <= 100)) throw new InputError(`--percentile must be in (0, 100], got '${pct}'`);
  const calib = flagString(args, 'calib');
  const cacheOut = flagString(args, 'calibCache');
  const inputs = declaredInputs(model, shapes);
  const base = { algorithm: algo as CalibrationAlgorithm, percentile };
  if (calib && isCacheFile(calib)) {
    // a cache: nothing to run (a cache for another model is refused when the build reads it)
    return createCalibrator({ ...base, batches: [], cacheFile: calib });
  }
  let batches: CalibrationFeeds[];
  if (!calib) {
    const nText = flagString(args, 'calibBatches') ?? '8';
    const n = Number(nText);
    if (!Number.isInteger(n) || n < 1) throw new InputError(`--calibBatches must be a positive integer, got '${nText}'`);
    warn(`INT8 calibration on ${n} batch(es) of seeded random inputs: the engine serves for timing, but its accuracy needs representative data (--calib=DIR|FILE.npz, see docs/int8.md)`);
    batches = Array.from({ length: n }, (_, k) => randomInputs(inputs, k + 1));
  } else if (!fs.existsSync(calib)) {
    throw new InputError(`--calib: ${calib} does not exist`);
  } else if (fs.statSync(calib).isDirectory()) {
    const files = fs.readdirSync(calib).filter((f) => f.endsWith('.npz') || f.endsWith('.npy')).sort();
    if (!files.length) throw new InputError(`--calib: ${calib} holds no .npz or .npy batch`);
    if (files.some((f) => f.endsWith('.npy')) && inputs.length !== 1) throw new InputError(`--calib: .npy batches need a one-input model; this one has ${inputs.length} inputs (use .npz with arrays by input name)`);
    batches = files.map((f) => {
      const file = path.join(calib, f);
      return loadInputs(f.endsWith('.npy') ? `${inputs[0].name}:${file}` : file, inputs);
    });
  } else if (calib.endsWith('.npz')) {
    batches = splitSamples(loadInputs(calib, inputs.map((io) => ({ ...io, dims: [-1, ...io.dims.slice(1)] }))), inputs, calib);
  } else {
    throw new InputError(`--calib: ${calib} is neither a calibration cache, a directory of batches nor an .npz`);
  }
  return createCalibrator({ ...base, batches, cacheFile: cacheOut });
}
