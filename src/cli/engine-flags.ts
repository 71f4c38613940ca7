/**
 * The flags `vkrt exec` and `vkrt inspect` share to get an engine: built from --onnx with the build
 * flags (--shapes, --fp16, --int8, --noFusion, --paramMode, --device, --plugins, --refit,
 * --coopMat), or loaded with --loadEngine.
 */
import { constants as bufferConstants } from 'buffer';
import * as fs from 'fs';
import * as os from 'os';
import { InputError } from '../errors';
import { DType } from '../ir/dtype';
import type { BuilderConfig, OptimizationProfile } from '../builder/builder';
import { Device } from '../gpu/device';
import { Model } from '../ir/graph';
import { loadModel } from '../onnx/parse';
import { EngineKey, readEngineFile } from '../runtime/engine-file';
import { flagString, type FlagHelp, type ParsedArgs } from './args';

/** Build flags taking a value. */
export const BUILD_VALUE_FLAGS = ['onnx', 'shapes', 'minShapes', 'optShapes', 'maxShapes', 'paramMode', 'device', 'builderOptimizationLevel', 'timingCacheFile', 'plugins', 'coopMat'] as const;
/** Build switches. */
export const BUILD_SWITCHES = ['fp16', 'int8', 'noFusion', 'verbose', 'refit', 'hostFallback'] as const;

/** Help of the build flags (exec, inspect). */
export const BUILD_HELP: Readonly<Record<string, FlagHelp>> = {
  onnx: { value: 'FILE', description: 'the ONNX model to build an engine from (a bare name gets .onnx added when that file exists)' },
  shapes: { value: 'SPEC', description: 'shapes of inputs with symbolic dimensions: name:1x3x224x224[,name2:...] (trtexec\'s --shapes); with a profile, the shape to run' },
  minShapes: { value: 'SPEC', description: 'an optimization profile: the smallest shapes of the inputs that vary, as --shapes (docs/dynamic-shapes.md)' },
  optShapes: { value: 'SPEC', description: 'the profile\'s shapes that tactics are chosen for (default: --maxShapes)' },
  maxShapes: { value: 'SPEC', description: 'the profile\'s largest shapes (memory is planned for them; default: --optShapes)' },
  paramMode: { value: 'spec|push', description: 'how kernels receive shape facts: specialization constants or push constants', default: 'spec (push with a profile)' },
  device: { value: 'N', description: 'the Vulkan device index (see `vkrt devices`)', default: 'the default device' },
  fp16: { description: 'build FP16 layers where the device and the layer allow it' },
  int8: { description: 'INT8 layers: Q/DQ models as they are, float models calibrated first (--calib; docs/int8.md)' },
  noFusion: { description: 'turn the graph optimizer (layer and tensor fusion) off' },
  builderOptimizationLevel: { value: '0-5', description: 'auto-tuning: how many candidates per layer are timed on the device (0: the heuristic choice; docs/tuning.md)', default: '3' },
  timingCacheFile: { value: 'FILE', description: 'timings kept across builds: read before tuning, merged and written after' },
  plugins: { value: 'A.js,B.js', description: "plugin modules the build loads, relative to the working directory (trtexec's --dynamicPlugins; docs/plugins.md)" },
  refit: { description: 'build a refittable engine (weights replaceable by ONNX initializer name)' },
  hostFallback: { description: 'run nodes the GPU cannot run (strings, sequences, no kernel, a shape no build can know) on the CPU reference between GPU stages; each is listed (docs/dynamic-shapes.md)' },
  coopMat: { value: 'auto|nv|khr|off|emulate', description: 'matrix-unit (cooperative matrix) tactics for FP16 GEMM (docs/coopmat.md)', default: 'auto' },
};

/** Parses a --shapes value: `a:1x3x224x224,b:1x10`. */
export function parseShapes(spec: string | undefined, flag = '--shapes'): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (!spec) return out;
  for (const part of spec.split(',')) {
    const k = part.lastIndexOf(':');
    if (k <= 0) throw new InputError(`${flag}: '${part}' is not name:DIMxDIM`);
    const name = part.slice(0, k);
    const dims = part.slice(k + 1).split('x').map(Number);
    if (dims.some((d) => !Number.isInteger(d) || d < 0)) throw new InputError(`${flag}: bad dimensions in '${part}'`);
    out[name] = dims;
  }
  return out;
}

/**
 * The optimization profile of --minShapes/--optShapes/--maxShapes (trtexec's), or undefined when
 * none is given. A missing --optShapes is --maxShapes, a missing --minShapes or --maxShapes is
 * --optShapes; every flag given must name the same inputs.
 */
export function parseProfile(args: ParsedArgs): OptimizationProfile | undefined {
  const given = { min: flagString(args, 'minShapes'), opt: flagString(args, 'optShapes'), max: flagString(args, 'maxShapes') };
  if (given.min === undefined && given.opt === undefined && given.max === undefined) return undefined;
  const min = given.min !== undefined ? parseShapes(given.min, '--minShapes') : undefined;
  const max = given.max !== undefined ? parseShapes(given.max, '--maxShapes') : undefined;
  const opt = given.opt !== undefined ? parseShapes(given.opt, '--optShapes') : max;
  if (!opt) throw new InputError('--minShapes alone is not a profile: give --optShapes (and --maxShapes) too');
  const names = Object.keys(opt).sort().join(',');
  for (const [flag, s] of [['--minShapes', min], ['--maxShapes', max]] as const) {
    if (s && Object.keys(s).sort().join(',') !== names) throw new InputError(`${flag} names ${Object.keys(s).sort().join(', ')}; --optShapes names ${names.split(',').join(', ')}: give the same inputs to each`);
  }
  return Object.fromEntries(Object.keys(opt).map((n) => [n, { min: (min ?? opt)[n], opt: opt[n], max: (max ?? opt)[n] }]));
}

/** Bytes one element takes in host memory (ir/tensor.ts allocData: narrow floats are held as float32). */
function hostElementBytes(dtype: DType): number {
  switch (dtype) {
    case 'float64': case 'int64': case 'uint64': case 'complex64': return 8;
    case 'complex128': return 16;
    case 'int8': case 'uint8': case 'bool': case 'int4': case 'uint4': case 'int2': case 'uint2': return 1;
    case 'int16': case 'uint16': return 2;
    case 'string': return 16;
    default: return 4;
  }
}

/**
 * Most bytes the CLI allocates on the host for one tensor: what one typed array can hold
 * (buffer.constants.MAX_LENGTH, 4 GiB) and at most half of this machine's memory.
 */
export function hostTensorLimit(): number {
  return Math.min(bufferConstants.MAX_LENGTH, Math.floor(os.totalmem() / 2));
}

function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(2)} GiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/**
 * Checks, before anything is allocated, that a tensor of these dims fits in host memory; an
 * InputError naming it and its size otherwise. `what` says what the CLI would do with it.
 */
export function checkHostBytes(name: string, dtype: DType, dims: readonly number[], kind: 'input' | 'output', what: string, limit = hostTensorLimit()): void {
  let elements = 1;
  for (const d of dims) elements *= d;
  const bytes = elements * hostElementBytes(dtype);
  if (Number.isSafeInteger(elements) && bytes <= limit) return;
  const size = Number.isSafeInteger(elements) ? `${elements} elements, ${gib(bytes)}` : 'more elements than a number can count';
  const fix = kind === 'input' ? `give a smaller shape with --shapes=${name}:DIMxDIM...` : 'build the engine for smaller input shapes (--shapes)';
  throw new InputError(`${kind} '${name}' is ${dtype}[${dims.join('x')}] (${size}): too large to ${what} on the host (limit ${gib(limit)}: one typed array holds at most ${gib(bufferConstants.MAX_LENGTH)}, and at most half of this machine's memory); ${fix}`);
}

/** The builder configuration the flags ask for (without inputShapes and log). */
export function buildConfig(args: ParsedArgs): BuilderConfig {
  const mode = flagString(args, 'paramMode');
  if (mode !== undefined && mode !== 'spec' && mode !== 'push') throw new InputError('--paramMode must be spec or push');
  const config: BuilderConfig = {};
  if (mode) config.paramMode = mode;
  const profile = parseProfile(args);
  if (profile) config.profiles = [profile];
  if (args.flags.has('fp16')) config.fp16 = true;
  if (args.flags.has('int8')) config.int8 = true;
  if (args.flags.has('noFusion')) config.fusion = false;
  const level = flagString(args, 'builderOptimizationLevel');
  if (level !== undefined) {
    const n = Number(level);
    if (!Number.isInteger(n) || n < 0 || n > 5) throw new InputError(`--builderOptimizationLevel must be an integer from 0 to 5, got '${level}'`);
    config.optimizationLevel = n;
  }
  const cache = flagString(args, 'timingCacheFile');
  if (cache) config.timingCache = cache;
  // --plugins=./a.js,./b.js (trtexec's --dynamicPlugins): modules loaded by the build, relative to the cwd
  const plugins = flagString(args, 'plugins');
  if (plugins) config.plugins = plugins.split(',').filter((p) => p);
  if (args.flags.has('refit')) config.refittable = true;
  if (args.flags.has('hostFallback')) config.hostFallback = true;
  const coop = flagString(args, 'coopMat');
  if (coop !== undefined) {
    const choices = ['auto', 'nv', 'khr', 'off', 'emulate'] as const;
    const pick = choices.find((c) => c === coop);
    if (!pick) throw new InputError(`--coopMat must be one of ${choices.join(', ')}, got '${coop}'`);
    config.cooperativeMatrix = pick;
  }
  return config;
}

/** The device index of --device, checked. */
export function deviceIndex(args: ParsedArgs): number | undefined {
  const dev = flagString(args, 'device');
  if (dev === undefined) return undefined;
  const n = Number(dev);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`--device must be a device index (see \`vkrt devices\`), got '${dev}'`);
  return n;
}

/** Reads a file the user named, as an InputError naming the flag when it cannot be read. */
export function readUserFile(file: string, flag: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new InputError(`${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** The model file a user named: the path, or NAME.onnx when only that exists (a bare model name). */
export function resolveModelPath(file: string, flag = '--onnx'): string {
  if (fs.existsSync(file)) return file;
  if (!file.endsWith('.onnx') && fs.existsSync(`${file}.onnx`)) return `${file}.onnx`;
  throw new InputError(`${flag}: ${file} does not exist${file.endsWith('.onnx') ? '' : ` (nor ${file}.onnx)`}`);
}

/** Loads the --onnx model (timed). */
export function loadOnnx(file: string): { model: Model; parseMs: number } {
  file = resolveModelPath(file);
  const t0 = performance.now();
  const model = loadModel(file);
  return { model, parseMs: performance.now() - t0 };
}

/**
 * The device for loading an engine file: --device when given (opened with the file's pipeline
 * cache; for --untrusted with robust buffer access and without the file's cache), else undefined
 * (the loader opens the device the file was built for).
 */
export function deviceForEngineFile(bytes: Uint8Array, file: string, index: number | undefined, options: { untrusted?: boolean; key?: EngineKey } = {}): Device | undefined {
  if (index === undefined) return undefined;
  const contents = readEngineFile(bytes, file, { key: options.key });
  if (options.untrusted) return Device.create({ index, robustBufferAccess: true });
  return Device.create({ index, pipelineCache: contents.pipelineCache.length ? contents.pipelineCache : undefined });
}

/** Rejects build flags given with --loadEngine: the engine was built already. */
export function checkNoBuildFlags(args: ParsedArgs): void {
  for (const f of ['onnx', 'fp16', 'int8', 'noFusion', 'paramMode', 'plugins', 'refit', 'minShapes', 'optShapes', 'maxShapes', 'hostFallback']) {
    if (args.flags.has(f)) throw new InputError(`--${f} is a build flag; an engine loaded with --loadEngine was built already${f === 'plugins' ? ' and carries its plugins\' kernels' : ''} (rebuild it from its model with --onnx instead)`);
  }
}
