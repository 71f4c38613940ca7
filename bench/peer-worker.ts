/**
 * One runtime on one model, in its own process (so its peak memory is its own): builds a session,
 * runs the inputs of an .npz once and saves the outputs (for the parent's agreement check), then
 * times runs rotating over input variants. Prints one JSON line. Spawned by bench/peers.ts.
 *
 *   tsx bench/peer-worker.ts --runtime=vkrt|ort --model=m.onnx --inputs=in.npz --outputs=out.npz
 *     [--warmup=N] [--runs=N] [--budget=SECONDS]
 */
import * as fs from 'fs';
import { parseArgs, flagString } from '../src/cli/args';
import { parseNpz, writeNpz } from '../src/io/npy';
import { Tensor } from '../src/ir/tensor';
import { loadModel } from '../src/onnx/parse';
import { peakRssMiB, timeLoop } from './stats';
import { buildEngine } from '../src/api/build';

/** What a worker reports. */
export interface WorkerResult {
  runtime: string;
  build_ms: number;
  median_ms: number;
  p90_ms: number;
  runs: number;
  peak_rss_mib: number;
  detail?: string;
}

type Runner = (feeds: Map<string, Tensor>) => Promise<Map<string, Tensor>>;

/** Copies of the inputs with their elements rotated, so runs do not all see the same bytes. */
function variants(feeds: Map<string, Tensor>, k: number): Map<string, Tensor>[] {
  const out = [feeds];
  for (let v = 1; v < k; v++) {
    const m = new Map<string, Tensor>();
    for (const [name, t] of feeds) {
      // float inputs are rotated; integer inputs (sizes, sample rates, ids) are kept as they are
      if (t.dtype === 'float32' && t.size > 1) {
        const src = t.data as Float32Array, r = new Float32Array(src.length);
        for (let i = 0; i < r.length; i++) r[i] = src[(i + 31 * v) % src.length];
        m.set(name, new Tensor('float32', t.dims, r));
      } else m.set(name, t);
    }
    out.push(m);
  }
  return out;
}

async function vkrtRunner(model: string, feeds: Map<string, Tensor>): Promise<{ run: Runner; buildMs: number; close(): void }> {
  const t0 = performance.now();
  const inputShapes = Object.fromEntries([...feeds].map(([n, t]) => [n, t.dims]));
  const engine = buildEngine(loadModel(model), { inputShapes });
  const ctx = engine.createExecutionContext();
  const buildMs = performance.now() - t0;
  return { run: (f) => ctx.execute(f), buildMs, close: () => engine.dispose() };
}

async function ortRunner(model: string): Promise<{ run: Runner; buildMs: number; close(): void }> {
   
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'] });
  const buildMs = performance.now() - t0;
  const run: Runner = async (feeds) => {
    const f: Record<string, import('onnxruntime-node').Tensor> = {};
    for (const [n, t] of feeds) f[n] = new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims);
    const r = await session.run(f);
    const out = new Map<string, Tensor>();
    for (const [n, v] of Object.entries(r)) {
      const dims = [...v.dims];
      if (v.type === 'float32') out.set(n, new Tensor('float32', dims, v.data as Float32Array));
      else if (v.type === 'int64') out.set(n, new Tensor('int64', dims, v.data as BigInt64Array));
      else out.set(n, Tensor.from(v.type as 'int32', dims, Array.from(v.data as ArrayLike<number>)));
    }
    return out;
  };
  return { run, buildMs, close: () => void session.release() };
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['runtime', 'model', 'inputs', 'outputs', 'warmup', 'runs', 'budget']);
  const runtime = flagString(args, 'runtime'), model = flagString(args, 'model'), inputs = flagString(args, 'inputs'), outputs = flagString(args, 'outputs');
  if (!runtime || !model || !inputs || !outputs) throw new Error('--runtime, --model, --inputs and --outputs are required');
  const feeds = parseNpz(fs.readFileSync(inputs), inputs);
  const r = runtime === 'vkrt' ? await vkrtRunner(model, feeds) : runtime === 'ort' ? await ortRunner(model) : undefined;
  if (!r) throw new Error(`unknown runtime '${runtime}' (vkrt or ort)`);
  try {
    const first = await r.run(feeds);
    fs.writeFileSync(outputs, writeNpz(first));
    const vs = variants(feeds, 4);
    const stats = await timeLoop((i) => r.run(vs[i % vs.length]), {
      warmup: Number(flagString(args, 'warmup') ?? 5), runs: Number(flagString(args, 'runs') ?? 200), budgetS: Number(flagString(args, 'budget') ?? 5),
    });
    const res: WorkerResult = { runtime, build_ms: r.buildMs, ...stats, peak_rss_mib: peakRssMiB() };
    console.log(JSON.stringify(res));
    return 0;
  } finally {
    r.close();
  }
}

main(process.argv.slice(2)).then((c) => { process.exitCode = c; }, (e) => {
  console.log(JSON.stringify({ error: (e as Error).message.split('\n').slice(0, 6).join(' / ') }));
  process.exitCode = 1;
});
