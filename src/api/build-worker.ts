/**
 * The build worker (worker_threads): parses the model and runs the builder's CPU work (the plan
 * phases and the GLSL to SPIR-V compiles, nearly all of a build's time) off the main thread, then
 * posts the plan (encoded as engine files encode it) and the SPIR-V back. The main thread only
 * makes pipelines and uploads weights (build.ts). Messages: see WorkerRequest / WorkerMessage.
 */
import { parentPort, workerData } from 'worker_threads';
import { buildPlan } from '../builder/builder';
import type { BuilderConfig } from '../builder/config';
import { compileShaders } from '../builder/shaders';
import type { DeviceCaps } from '../kernel/contract';
import { PROGRESS_SPAN, type BuildProgress } from '../kernel/progress';
import { loadModel, parseModel } from '../onnx/parse';
import { encodePlainData, type Json } from '../runtime/plan-codec';

/** What the main thread sends (as workerData). */
export interface WorkerRequest {
  model: { path: string } | { bytes: Uint8Array };
  /** The BuilderConfig without its functions and objects (what structured clone carries). */
  config: Omit<BuilderConfig, 'log' | 'warn' | 'progress' | 'selection' | 'registry' | 'plugins'>;
  caps: DeviceCaps & { alignment: number };
  log: boolean;
  progress: boolean;
}

/** An error as plain data (structured clone keeps neither the class nor its fields). */
export interface ErrorData {
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

export type WorkerMessage =
  | { type: 'log'; line: string }
  | { type: 'warning'; message: string }
  | { type: 'progress'; progress: BuildProgress }
  | { type: 'done'; plan: Json; sections: Uint8Array[]; modules: Uint32Array[]; dispatchModule: number[][]; profileModules?: number[] }
  | { type: 'error'; error: ErrorData };

function errorData(e: unknown): ErrorData {
  const err = e instanceof Error ? e : new Error(String(e));
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err)) {
    try {
      fields[k] = structuredClone(v);
    } catch {
      // a field that cannot cross threads is left out
    }
  }
  return { name: err.name || 'Error', message: err.message, stack: err.stack, fields };
}

function run(req: WorkerRequest, post: (m: WorkerMessage, transfer?: ArrayBuffer[]) => void): void {
  const progress = req.progress ? (p: BuildProgress) => post({ type: 'progress', progress: p }) : undefined;
  progress?.({ phase: 'parse', fraction: PROGRESS_SPAN.parse[0] });
  const model = 'path' in req.model ? loadModel(req.model.path) : parseModel(req.model.bytes);
  const config: BuilderConfig = {
    ...req.config, progress, log: req.log ? (line) => post({ type: 'log', line }) : undefined,
    warn: (message) => post({ type: 'warning', message }), // the main thread emits it (build.ts)
  };
  const plan = buildPlan(model, req.caps, config);
  const shaders = compileShaders(plan, progress);
  const encoded = encodePlainData(plan);
  const transfer = new Set<ArrayBuffer>();
  for (const s of encoded.sections) if (s.buffer instanceof ArrayBuffer) transfer.add(s.buffer);
  // SPIR-V modules may be shared with the worker's compile cache: send copies
  const modules = shaders.modules.map((m) => m.slice());
  for (const m of modules) transfer.add(m.buffer as ArrayBuffer);
  post({ type: 'done', plan: encoded.json, sections: encoded.sections, modules, dispatchModule: shaders.dispatchModule, profileModules: shaders.profileModules }, [...transfer]);
}

if (parentPort) {
  const port = parentPort;
  try {
    run(workerData as WorkerRequest, (m, transfer) => {
      try {
        port.postMessage(m, transfer);
      } catch {
        port.postMessage(m); // a buffer Node will not transfer (a pooled one): copy instead
      }
    });
  } catch (e) {
    port.postMessage({ type: 'error', error: errorData(e) } satisfies WorkerMessage);
  }
}
