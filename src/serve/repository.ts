/**
 * The model repository, laid out as Triton lays it out:
 *
 *   DIR/<model>/config.json            optional (this file's ModelConfig, snake_case as Triton's)
 *   DIR/<model>/<version>/model.onnx   numeric version folders; the highest is served
 *   DIR/<model>/model.onnx             or the model file directly (served as version 1)
 *
 * A model file is `model.onnx` (built into engines here) or a vkrt engine file `model.engine`
 * (`engine.serialize()`, `vkrt exec --saveEngine`; `model.plan` is read too, Triton's name for a
 * TensorRT plan). docs/serve.md documents every config key.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ServeError } from './errors';

/** A model's settings (config.json); every field optional. */
export interface ModelConfig {
  /**
   * Largest batch (first dimension) the dynamic batcher forms; 0: the model has no batch
   * dimension, requests give its exact shapes and run one at a time. Default: 8 when every input
   * of the ONNX model has a symbolic first dimension, else 0 (engine files: 0).
   */
  max_batch_size?: number;
  /** Batch sizes the batcher prefers to form (each <= max_batch_size). */
  preferred_batch_size?: number[];
  /** How long the oldest queued request may wait for others to join its batch (default 0: no wait). */
  max_queue_delay_microseconds?: number;
  /** Queued requests (not yet running) beyond which new ones are refused with 429 (default 1024; 0: no limit). */
  max_queue_size?: number;
  /** Queue timeout of every request, in microseconds (default 0: none). */
  default_timeout_microseconds?: number;
  /** Whether a request's `timeout` parameter may set its own (shorter) timeout (default true). */
  allow_timeout_override?: boolean;
  /** Execution contexts of the model that run batches concurrently (default 1). */
  instance_count?: number;
  /** Build with FP16 storage (BuilderConfig.fp16; ONNX models only). */
  fp16?: boolean;
  /** The auto-tuning level of builds (BuilderConfig optimizationLevel, default 0: heuristic choices, quick). */
  optimization_level?: number;
  /**
   * The batch sizes engines are built for (fixed-shape engines; a merged batch runs on the
   * smallest that holds it, padded). Default: 1, the preferred sizes and max_batch_size.
   */
  engine_batch_sizes?: number[];
  /** Build the engines of every engine batch size when the model loads instead of on first use (default false). */
  eager_engines?: boolean;
  /** Values of symbolic dimensions other than the batch dimension, per input: the shape without the batch dimension. */
  input_shapes?: Record<string, number[]>;
  /** Serve this version instead of the highest. */
  version?: number;
}

/** One model of the repository, resolved. */
export interface RepositoryModel {
  name: string;
  version: string;
  /** The model file: .onnx, or an engine file. */
  file: string;
  kind: 'onnx' | 'engine';
  config: ModelConfig;
  /** The config file read, if any. */
  configFile?: string;
}

const MODEL_FILES: readonly [string, 'onnx' | 'engine'][] = [['model.onnx', 'onnx'], ['model.engine', 'engine'], ['model.plan', 'engine']];

const KEYS: Record<keyof ModelConfig, 'int' | 'ints' | 'bool' | 'shapes'> = {
  max_batch_size: 'int', preferred_batch_size: 'ints', max_queue_delay_microseconds: 'int', max_queue_size: 'int',
  default_timeout_microseconds: 'int', allow_timeout_override: 'bool', instance_count: 'int', fp16: 'bool',
  optimization_level: 'int', engine_batch_sizes: 'ints', eager_engines: 'bool', input_shapes: 'shapes', version: 'int',
};

/**
 * Checks a config object (from config.json or code); `where` names it in errors.
 * @throws ServeError (500: a repository problem) naming the file and the key.
 */
export function checkConfig(raw: unknown, where: string): ModelConfig {
  const fail = (m: string) => new ServeError(500, `${where}: ${m}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw fail('the config must be a JSON object');
  const isInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
  for (const [k, v] of Object.entries(raw)) {
    const kind = (KEYS as Record<string, string>)[k];
    if (!kind) throw fail(`unknown key '${k}' (keys: ${Object.keys(KEYS).join(', ')}; docs/serve.md)`);
    if (kind === 'int' && !isInt(v)) throw fail(`'${k}' must be a non-negative integer, got ${JSON.stringify(v)}`);
    if (kind === 'bool' && typeof v !== 'boolean') throw fail(`'${k}' must be true or false, got ${JSON.stringify(v)}`);
    if (kind === 'ints' && (!Array.isArray(v) || v.some((x) => !isInt(x) || x === 0))) throw fail(`'${k}' must be a list of positive integers, got ${JSON.stringify(v)}`);
    if (kind === 'shapes') {
      if (!v || typeof v !== 'object' || Array.isArray(v)) throw fail(`'${k}' must map input names to shapes (without the batch dimension)`);
      for (const [n, s] of Object.entries(v)) {
        if (!Array.isArray(s) || s.some((x) => !isInt(x))) throw fail(`'${k}.${n}' must be a list of non-negative integers, got ${JSON.stringify(s)}`);
      }
    }
  }
  const c = raw as ModelConfig;
  if (c.instance_count === 0) throw fail(`'instance_count' must be at least 1`);
  const max = c.max_batch_size;
  if (max !== undefined) {
    for (const key of ['preferred_batch_size', 'engine_batch_sizes'] as const) {
      const big = c[key]?.find((b) => b > max);
      if (big !== undefined) throw fail(`'${key}' has ${big}, more than max_batch_size ${max}`);
    }
  }
  return c;
}

function exists(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function modelFileIn(dir: string): { file: string; kind: 'onnx' | 'engine' } | undefined {
  for (const [name, kind] of MODEL_FILES) {
    const file = path.join(dir, name);
    if (exists(file)) return { file, kind };
  }
  return undefined;
}

/**
 * The models of a repository folder, sorted by name. A folder that holds no model file, a bad
 * config.json or a missing version is reported in `errors` (the server serves the others and
 * lists these as not ready).
 * @throws ServeError when the folder cannot be read.
 */
export function scanRepository(dir: string): { models: RepositoryModel[]; errors: { name: string; message: string }[] } {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new ServeError(500, `--model-repository ${dir}: cannot read the folder (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const models: RepositoryModel[] = [];
  const errors: { name: string; message: string }[] = [];
  for (const e of entries.filter((d) => d.isDirectory() && !d.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name))) {
    try {
      models.push(resolveModel(dir, e.name));
    } catch (err) {
      errors.push({ name: e.name, message: (err as Error).message });
    }
  }
  return { models, errors };
}

function resolveModel(dir: string, name: string): RepositoryModel {
  const root = path.join(dir, name);
  const configFile = path.join(root, 'config.json');
  let config: ModelConfig = {};
  let readConfig: string | undefined;
  if (exists(configFile)) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    } catch (e) {
      throw new ServeError(500, `${configFile}: not valid JSON (${(e as Error).message})`);
    }
    config = checkConfig(raw, configFile);
    readConfig = configFile;
  }
  const versions = fs.readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d+$/.test(d.name))
    .map((d) => Number(d.name))
    .filter((v) => modelFileIn(path.join(root, String(v))))
    .sort((a, b) => b - a);
  const wanted = config.version;
  let version: string, found: { file: string; kind: 'onnx' | 'engine' } | undefined;
  if (versions.length) {
    const v = wanted ?? versions[0];
    if (!versions.includes(v)) throw new ServeError(500, `${root}: config.json asks for version ${v}; the versions with a model file are ${versions.join(', ')}`);
    version = String(v);
    found = modelFileIn(path.join(root, version));
  } else {
    version = String(wanted ?? 1);
    found = modelFileIn(root);
  }
  if (!found) throw new ServeError(500, `${root}: no model file (${MODEL_FILES.map(([f]) => f).join(', ')}) in the folder or in a numeric version folder`);
  return { name, version, file: found.file, kind: found.kind, config, configFile: readConfig };
}
