/**
 * Builder and runtime joined: a model in, a loaded Engine out. The builder (src/builder) plans and
 * compiles, the runtime (src/runtime) loads; only this layer knows both.
 *
 * buildEngineAsync keeps the event loop running during a build. Without auto-tuning
 * (optimizationLevel 0) the CPU work (parsing, the plan phases, GLSL to SPIR-V) runs in a worker
 * thread (build-worker.ts); with it, candidates are timed on the device from this thread, between
 * awaited GPU runs. Either way the pipelines compile on libuv threads and the weights upload in
 * slices (Engine.loadAsync).
 */
import * as fs from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { buildPlan, type BuilderConfig } from '../builder/builder';
import { buildSerialized, buildSerializedAsync, loadTimingCache } from '../builder/build';
import { deviceCaps } from '../builder/caps';
import { compileShaderSteps } from '../builder/shaders';
import { DEFAULT_OPTIMIZATION_LEVEL, timedSelection, type TuningOptions } from '../builder/tuning/tune';
import './profiles';
import './refit';
import * as errors from '../errors';
import { Device } from '../gpu/device';
import type { Model } from '../ir/graph';
import type { BuiltEngine, EnginePlan } from '../kernel/plan';
import { PROGRESS_SPAN } from '../kernel/progress';
import { loadModel, parseModel } from '../onnx/parse';
import { serializeModel } from '../onnx/serialize';
import { Engine } from '../runtime/engine';
import { decodePlainData } from '../runtime/plan-codec';
import type { ErrorData, WorkerMessage, WorkerRequest } from './build-worker';
import { fp16Overflows, isExplicitlyQuantized, quantizeModel, quantizeModelFromCache } from './calibrate';

export interface EngineOptions extends BuilderConfig {
  /** The device to build for; default: a new device on the default GPU (disposed with the engine). */
  device?: Device;
  /** The engine holds `device` open until it is disposed (Device.retain), as a Builder's engines do. */
  holdDevice?: boolean;
}

export interface AsyncEngineOptions extends EngineOptions, Omit<TuningOptions, 'cache' | 'optimizationLevel'> {
  /**
   * Run the CPU part of an untuned build (optimizationLevel 0) in a worker thread (default true).
   * Without a worker (false, a config a worker cannot receive: a custom `registry`, `selection`,
   * `plugins` or a `timingCache`, or no build-worker.js beside this module, as in a bundle that did
   * not copy it) the build runs on this thread, yielding between shader compiles and pipelines but
   * not inside the plan phases.
   */
  worker?: boolean;
}

/** Builds an engine for a model (see BuilderConfig) and loads it on the device. Blocks until done. */
export function buildEngine(model: Model, options: EngineOptions = {}): Engine {
  const t0 = performance.now();
  refuseHostFallback(options);
  if (options.int8 && !isExplicitlyQuantized(model)) {
    const q = options.calibrator ? quantizeModelFromCache(model, options.calibrator, options) : undefined;
    if (!q) throw new errors.UnsupportedError('an INT8 build of a float model calibrates it by running the network: use buildEngineAsync (or give a calibrator whose readCalibrationCache() returns a cache, or a Q/DQ model)');
    model = q;
  }
  options = withoutCalibrator(options);
  const device = options.device ?? Device.create();
  try {
    const engine = Engine.load(buildSerialized(model, device, options), { device, ownsDevice: !options.device, holdDevice: options.holdDevice }, t0, options.progress);
    options.progress?.({ phase: 'done', fraction: 1 });
    return engine;
  } catch (e) {
    if (!options.device) device.dispose();
    throw e;
  }
}

/**
 * Builds an engine without blocking the event loop (see the file comment) and loads it:
 * auto-tuning per BuilderConfig.optimizationLevel (default 3: each layer's candidates timed on the
 * device; timingCache: a file of timings kept across builds; 0: no timing, the build runs in a
 * worker thread). `options.progress` hears every phase, `options.onProgress` every tuned layer.
 * @param model a Model, ONNX bytes or a path to an .onnx file
 */
export async function buildEngineAsync(model: Model | Uint8Array | string, options: AsyncEngineOptions = {}): Promise<Engine> {
  const t0 = performance.now();
  refuseHostFallback(options);
  const device = options.device ?? Device.create();
  const owns = !options.device;
  try {
    if (options.int8) {
      const m = toModel(model);
      if (!isExplicitlyQuantized(m)) {
        if (!options.calibrator) throw new errors.InputError('an INT8 build of a float model needs a calibrator (BuilderConfig.calibrator, e.g. createCalibrator({ batches })) or a cache; or give a model with Q/DQ pairs');
        const { registry, log, paramMode, fp32Layers } = options;
        model = (await quantizeModel(m, options.calibrator, {
          device, registry, log, paramMode, fp32Layers,
          build: (cm, o) => buildEngineAsync(cm, { ...o, device, registry, worker: false }),
        })).model;
      } else model = m;
    }
    options = withoutCalibrator(options);
    if (options.fp16 && options.fp16RangeCheck !== false) {
      const m = toModel(model);
      model = m;
      try {
        const { registry, log, paramMode, inputShapes } = options;
        const pins = await fp16Overflows(m, options.fp16RangeCheck ?? true, { ...inputShapes }, {
          device, log, paramMode,
          build: (cm, o) => buildEngineAsync(cm, { ...o, device, registry, worker: false, fp16: false }),
        });
        if (pins.length) {
          options = { ...options, fp32Layers: [...(options.fp32Layers ?? []), ...pins] };
          process.emitWarning(`FP16 build: ${pins.length} tensor(s) kept in FP32 because their values outgrow FP16 (${pins.slice(0, 3).join(', ')}${pins.length > 3 ? ', ...' : ''}); the build log names each`, 'VkrtWarning');
        }
      } catch (e) {
        if (e instanceof errors.VkrtError && !(e instanceof errors.DeviceLostError)) options.log?.(`fp16: range check skipped (${e.message})`);
        else throw e;
      }
    }
    const level = options.optimizationLevel ?? DEFAULT_OPTIMIZATION_LEVEL;
    let built: BuiltEngine;
    if (level > 0) {
      options.progress?.({ phase: 'parse', fraction: PROGRESS_SPAN.parse[0] });
      built = await buildSerializedAsync(toModel(model), device, options, { timer: options.timer, onProgress: options.onProgress });
    } else {
      // a worker needs its script beside this file and a config it can receive
      const inWorker = options.worker !== false && !options.registry && !options.selection && !options.plugins?.length && !options.timingCache
        && cloneableConfig(options) !== undefined && fs.existsSync(workerScript().file);
      built = inWorker ? await buildInWorker(model, device, options) : await buildInSlices(model, device, options);
    }
    return await Engine.loadAsync(built, { device, ownsDevice: owns, holdDevice: options.holdDevice }, t0, options.progress);
  } catch (e) {
    if (owns && !device.disposed) device.dispose();
    throw e;
  }
}

/** One GPU engine has no host steps: host fallback needs a staged engine. */
function refuseHostFallback(options: EngineOptions): void {
  if (options.hostFallback) throw new errors.InputError('hostFallback needs a staged engine (GPU stages and host steps): use buildStagedEngine or InferenceSession (vkrt exec --hostFallback); buildEngine makes one GPU engine');
}

/** The options without the calibrator (done with once the model is quantized; it cannot cross threads). */
function withoutCalibrator<T extends EngineOptions>(options: T): T {
  if (!('calibrator' in options)) return options;
  const { calibrator: _c, ...rest } = options;
  return rest as T;
}

/**
 * The part of the options a worker receives (structured clone): the plain-data build settings;
 * undefined when one of them cannot cross threads.
 */
function cloneableConfig(options: AsyncEngineOptions): WorkerRequest['config'] | undefined {
  const { device: _d, holdDevice: _h, worker: _w, log: _l, warn: _wa, progress: _p, selection: _s, registry: _r, plugins: _pl, timer: _t, onProgress: _o, ...rest } = options;
  try {
    return structuredClone(rest);
  } catch {
    return undefined;
  }
}

function toModel(model: Model | Uint8Array | string): Model {
  return typeof model === 'string' ? loadModel(model) : model instanceof Uint8Array ? parseModel(model) : model;
}

/** The main-thread build, with the event loop let run between shader compiles. */
async function buildInSlices(model: Model | Uint8Array | string, device: Device, options: EngineOptions): Promise<BuiltEngine> {
  options.progress?.({ phase: 'parse', fraction: PROGRESS_SPAN.parse[0] });
  const m = toModel(model);
  await tick();
  let selection = options.selection;
  if (!selection && options.timingCache) {
    selection = timedSelection(loadTimingCache(device, options), options.optimizationLevel ?? DEFAULT_OPTIMIZATION_LEVEL, options.paramMode ?? 'spec');
  }
  const plan = buildPlan(m, deviceCaps(device, options), { ...options, selection });
  const steps = compileShaderSteps(plan, options.progress);
  for (let r = steps.next(); ; r = steps.next()) {
    if (r.done) return { plan, shaders: r.value };
    await tick();
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The worker script: build-worker.js beside this file (build-worker.ts under tsx). */
function workerScript(): { file: string; ts: boolean } {
  const ts = __filename.endsWith('.ts');
  return { file: path.join(__dirname, ts ? 'build-worker.ts' : 'build-worker.js'), ts };
}

function buildInWorker(model: Model | Uint8Array | string, device: Device, options: EngineOptions): Promise<BuiltEngine> {
  const request: WorkerRequest = {
    model: typeof model === 'string' ? { path: path.resolve(model) } : { bytes: model instanceof Uint8Array ? model : serializeModel(model) },
    config: cloneableConfig(options)!,
    caps: deviceCaps(device, options),
    log: !!options.log,
    progress: !!options.progress,
  };
  const { file, ts } = workerScript();
  // Under tsx (tests, tools run from src/) the worker registers tsx's loader before the script.
  const worker = ts
    ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData: request })
    : new Worker(file, { workerData: request });
  return new Promise<BuiltEngine>((resolve, reject) => {
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'log') options.log?.(m.line);
      else if (m.type === 'warning') (options.warn ?? ((w: string) => process.emitWarning(w, 'VkrtWarning')))(m.message);
      else if (m.type === 'progress') options.progress?.(m.progress);
      else if (m.type === 'error') finish(() => reject(reviveError(m.error)));
      else if (m.type === 'done') {
        finish(() => {
          try {
            const plan = decodePlainData(m.plan, m.sections) as EnginePlan;
            resolve({ plan, shaders: { modules: m.modules, dispatchModule: m.dispatchModule, ...(m.profileModules ? { profileModules: m.profileModules } : {}) } });
          } catch (e) {
            reject(e);
          }
        });
      }
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) => finish(() => reject(new errors.VulkanError(`the build worker exited (code ${code}) before finishing`))));
  });
}

/** The worker's error as the class it was thrown as (ParseError, UnsupportedError, ...). */
function reviveError(d: ErrorData): Error {
  const classes = errors as unknown as Record<string, new (...a: never[]) => Error>;
  const C = Object.prototype.hasOwnProperty.call(classes, d.name) && typeof classes[d.name] === 'function' ? classes[d.name] : Error;
  const e = Object.create(C.prototype) as Error;
  Object.assign(e, d.fields);
  Object.defineProperty(e, 'message', { value: d.message, writable: true, configurable: true });
  Object.defineProperty(e, 'stack', { value: d.stack, writable: true, configurable: true });
  if (C === Error) e.name = d.name;
  return e;
}
