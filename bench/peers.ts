/**
 * `npm run bench` (alias `npm run bench -- peers`): vkrt against onnxruntime-node on the CPU, on
 * this machine, model by model: build time, latency median and p90, throughput, peak memory, and
 * the ratio vkrt/ORT. Each runtime runs in its own process (bench/peer-worker.ts) on the same
 * inputs; their outputs are compared (relative L2 error per output) before any time is printed,
 * and a model whose outputs disagree gets no timings.
 *
 *   npm run bench -- peers [--models=name,...] [--runs=200] [--budget=SECONDS] [--out=FILE.json]
 *
 * Models: the runnable ONNX models under .data/models plus networks built in code
 * (src/models/nets.ts), written to a temporary directory first.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseArgs, flagString } from '../src/cli/args';
import { Device } from '../src/gpu/device';
import { parseNpz, writeNpz } from '../src/io/npy';
import { Model } from '../src/ir/graph';
import { Tensor } from '../src/ir/tensor';
import { googlenetLike, mobilenetV2Like } from '../src/models/nets';
import { loadModel } from '../src/onnx/parse';
import { serializeModel } from '../src/onnx/serialize';
import type { WorkerResult } from './peer-worker';
import { fmtMs, fmtRatio, markdownTable, relativeError } from './stats';

interface BenchModel {
  name: string;
  /** An ONNX file, or a model built in code. */
  file?: string;
  build?: () => Model;
  /** Values for inputs that must not be random (e.g. a sample rate), and symbolic dims. */
  fixed?: Record<string, Tensor>;
  dims?: Record<string, number>;
  /** Whole input shapes by input name (where the symbolic dims have no useful names). */
  shapes?: Record<string, number[]>;
}

const DATA = path.join(__dirname, '..', '..', '..', '.data', 'models');
function dataDir(): string {
  // tsx runs from bench/, the compiled form from dist/bench/bench/
  for (const d of [path.join(__dirname, '..', '.data', 'models'), DATA]) if (fs.existsSync(d)) return d;
  return path.join(process.cwd(), '.data', 'models');
}

/** The default set: small real models from .data and two networks of real shape built in code. */
export function benchModels(): BenchModel[] {
  const d = dataDir();
  return [
    { name: 'mnist-8', file: path.join(d, 'mnist-8', 'model.onnx') },
    { name: 'rten-mnist', file: path.join(d, 'rten-mnist', 'mnist.onnx'), dims: { batch: 1, N: 1 } },
    { name: 'velardo-lesson14', file: path.join(d, 'velardo-keras-onnx2c', 'lesson14.onnx') },
    { name: 'silero-vad-ifless', file: path.join(d, 'silero-vad', 'silero_vad_op18_ifless.onnx'), fixed: { sr: Tensor.from('int64', [], [16000n]) }, shapes: { input: [1, 512] } },
    { name: 'mobilenetv2-like-224', build: () => mobilenetV2Like({ batch: 1, size: 224 }) },
    { name: 'googlenet-like-64', build: () => googlenetLike({ batch: 1, size: 64 }) },
  ];
}

/** Deterministic pseudo-random floats in [-1, 1). */
function noise(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    out[i] = a / 2 ** 31 - 1;
  }
  return out;
}

/** Inputs for every graph input: fixed values where given, else seeded noise (floats) or ones. */
function makeInputs(model: Model, m: BenchModel): Map<string, Tensor> {
  const g = model.graph;
  const init = new Set(g.initializers.keys());
  const feeds = new Map<string, Tensor>();
  g.inputs.filter((name) => !init.has(name)).forEach((name, k) => {
    const fixed = m.fixed?.[name];
    if (fixed) { feeds.set(name, fixed); return; }
    const t = g.types.get(name);
    if (!t || (t.kind ?? 'tensor') !== 'tensor' || !t.shape) throw new Error(`${m.name}: input '${name}' has no tensor shape`);
    const dims = m.shapes?.[name] ?? t.shape.map((x) => (typeof x === 'number' ? x : m.dims?.[String(x)] ?? 1));
    const n = dims.reduce((a, c) => a * c, 1);
    if (t.dtype === 'float32') feeds.set(name, new Tensor('float32', dims, noise(n, 17 + k)));
    else if (t.dtype === 'int64') feeds.set(name, new Tensor('int64', dims, new BigInt64Array(n).fill(1n)));
    else throw new Error(`${m.name}: input '${name}' is ${t.dtype}; the benchmark feeds float32 and int64 only`);
  });
  return feeds;
}

function spawnWorker(args: string[]): WorkerResult | { error: string } {
  const compiled = __filename.endsWith('.js');
  const worker = path.join(__dirname, compiled ? 'peer-worker.js' : 'peer-worker.ts');
  const cmd = compiled ? [worker] : ['--import', 'tsx', worker];
  try {
    const out = execFileSync(process.execPath, [...cmd, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 });
    return JSON.parse(out.trim().split('\n').pop()!);
  } catch (e) {
    const out = (e as { stdout?: string }).stdout ?? '';
    try { return JSON.parse(out.trim().split('\n').pop()!); } catch { return { error: (e as Error).message.split('\n')[0] }; }
  }
}

/** The worst relative L2 error over the outputs both runtimes produced, or why they cannot be compared. */
function agreement(a: Map<string, Tensor>, b: Map<string, Tensor>): { rel: number; detail?: string } {
  let worst = 0;
  for (const [name, ref] of b) {
    const got = a.get(name);
    if (!got) return { rel: NaN, detail: `vkrt has no output '${name}'` };
    if (got.size !== ref.size) return { rel: NaN, detail: `output '${name}': ${got.size} vs ${ref.size} elements` };
    const num = (t: Tensor) => (t.data instanceof BigInt64Array ? Float64Array.from(t.data, Number) : (t.data as Float32Array));
    worst = Math.max(worst, relativeError(num(got), num(ref)).rel);
  }
  return { rel: worst };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['models', 'runs', 'budget', 'out']);
  const only = flagString(args, 'models')?.split(',');
  const models = benchModels().filter((m) => !only || only.includes(m.name));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-bench-peers-'));
  const runs = flagString(args, 'runs') ?? '200', budget = flagString(args, 'budget') ?? '5';
   
  const ortVersion = (require('onnxruntime-node/package.json') as { version: string }).version;
  const dev = Device.create();
  const devName = `${dev.info.name} (${dev.info.driverName} ${dev.info.driverVersion})`;
  dev.dispose();
  const rows: string[][] = [];
  const results: Record<string, unknown>[] = [];
  try {
    for (const m of models) {
      let file = m.file;
      if (m.build) { file = path.join(dir, `${m.name}.onnx`); fs.writeFileSync(file, serializeModel(m.build())); }
      if (!file || !fs.existsSync(file)) { console.error(`[peers] ${m.name}: ${file} not found, skipped`); continue; }
      const feeds = makeInputs(loadModel(file), m);
      const inFile = path.join(dir, `${m.name}-in.npz`);
      fs.writeFileSync(inFile, writeNpz(feeds));
      const common = [`--model=${file}`, `--inputs=${inFile}`, `--runs=${runs}`, `--budget=${budget}`];
      const ort = spawnWorker(['--runtime=ort', ...common, `--outputs=${path.join(dir, `${m.name}-ort.npz`)}`]);
      const vk = spawnWorker(['--runtime=vkrt', ...common, `--outputs=${path.join(dir, `${m.name}-vkrt.npz`)}`]);
      const shapes = [...feeds].map(([n, t]) => `${n}[${t.dims.join(',')}]`).join(' ');
      if ('error' in ort || 'error' in vk) {
        const why = 'error' in vk ? `vkrt: ${vk.error}` : `ORT: ${(ort as { error: string }).error}`;
        console.error(`[peers] ${m.name}: ${why}`);
        rows.push([m.name, shapes, ...new Array(9).fill('–'), why.slice(0, 80)]);
        results.push({ model: m.name, inputs: shapes, status: 'error', detail: why });
        continue;
      }
      const agree = agreement(parseNpz(fs.readFileSync(path.join(dir, `${m.name}-vkrt.npz`))), parseNpz(fs.readFileSync(path.join(dir, `${m.name}-ort.npz`))));
      const ok = agree.rel <= 1e-3;
      results.push({ model: m.name, inputs: shapes, status: ok ? 'ok' : 'mismatch', rel_err: agree.rel, detail: agree.detail, vkrt: ok ? vk : undefined, ort: ok ? ort : undefined });
      if (!ok) {
        rows.push([m.name, shapes, ...new Array(9).fill('–'), `outputs disagree: ${agree.detail ?? `rel err ${agree.rel.toExponential(1)}`}`]);
        continue;
      }
      const thr = (r: WorkerResult) => (1000 / r.median_ms).toFixed(r.median_ms > 100 ? 1 : 0);
      rows.push([m.name, shapes, fmtMs(vk.build_ms), fmtMs(ort.build_ms), `${fmtMs(vk.median_ms)} / ${fmtMs(vk.p90_ms)}`, `${fmtMs(ort.median_ms)} / ${fmtMs(ort.p90_ms)}`,
        thr(vk), thr(ort), `${vk.peak_rss_mib.toFixed(0)} / ${ort.peak_rss_mib.toFixed(0)}`, fmtRatio(vk.median_ms, ort.median_ms), fmtRatio(vk.build_ms, ort.build_ms), agree.rel.toExponential(1)]);
      console.error(`[peers] ${m.name}: vkrt ${fmtMs(vk.median_ms)} ms, ORT ${fmtMs(ort.median_ms)} ms, rel err ${agree.rel.toExponential(1)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nvkrt on ${devName} vs onnxruntime-node ${ortVersion} (CPU) on ${os.cpus().length}× ${os.cpus()[0]?.model ?? 'CPU'}; node ${process.version}`);
  console.log('latency per inference, batch as in the input shapes; each runtime in its own process; outputs compared first (rel L2 ≤ 1e-3)\n');
  console.log(markdownTable(['model', 'inputs', 'vkrt build ms', 'ORT build ms', 'vkrt median / p90 ms', 'ORT median / p90 ms', 'vkrt inf/s', 'ORT inf/s', 'peak RSS MiB vkrt / ORT', 'latency vkrt/ORT', 'build vkrt/ORT', 'rel err'], rows));
  const out = flagString(args, 'out');
  if (out) {
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, JSON.stringify({ date: new Date().toISOString(), device: devName, cpu: os.cpus()[0]?.model, cpus: os.cpus().length, node: process.version, onnxruntime_node: ortVersion, results }, null, 1));
  }
  // a model vkrt cannot build is a row of the table; outputs that disagree fail the run
  return results.some((r) => r.status === 'mismatch') ? 1 : 0;
}
