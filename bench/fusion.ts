/**
 * What the graph optimizer does to real models: for every model under .data/models and
 * .data/onnx-other that builds, the ONNX node count, the engine's layer count without and with
 * fusion, and the median latency of a run (inputs written, program submitted, outputs read) both
 * ways, on the current device. Models with symbolic dims run at 1 where the model says nothing.
 * Two networks built in code (src/models/nets.ts, 1x3x64x64) come last: GoogLeNet- and
 * MobileNetV2-shaped, the architectures the fusions are aimed at.
 *
 *   npm run bench -- fusion [--runs=N] [--warmup=N] [--filter=substring] [--data=DIR]
 */
import * as fs from 'fs';
import * as path from 'path';
import { Device } from '../src/gpu';
import { Model } from '../src/ir/graph';
import { Tensor } from '../src/ir/tensor';
import { googlenetLike, mobilenetV2Like } from '../src/models/nets';
import { loadModel } from '../src/onnx/parse';
import { buildEngine } from '../src/api/build';

function findModels(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findModels(p));
    else if (e.name.endsWith('.onnx')) out.push(p);
  }
  return out.sort();
}

/** Deterministic inputs in [-1, 1) (integers: 0/1) with symbolic dims set to 1. */
function feedsOf(model: Model): { feeds: Map<string, Tensor>; shapes: Record<string, number[]> } {
  const g = model.graph;
  const feeds = new Map<string, Tensor>();
  const shapes: Record<string, number[]> = {};
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (const name of g.inputs.filter((i) => !g.initializers.has(i))) {
    const t = g.types.get(name);
    if (!t?.shape) throw new Error(`input ${name} has no shape`);
    const dims = t.shape.map((d) => (typeof d === 'number' ? d : 1));
    shapes[name] = dims;
    const n = dims.reduce((a, b) => a * b, 1);
    const float = t.dtype.startsWith('float');
    feeds.set(name, Tensor.from(t.dtype, dims, Array.from({ length: n }, () => (float ? next() * 2 - 1 : t.dtype === 'bool' ? next() < 0.5 : next() < 0.5 ? 0 : 1))));
  }
  return { feeds, shapes };
}

const median = (v: number[]) => { const s = v.slice().sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

async function measure(device: Device, model: Model, fusion: boolean, warmup: number, runs: number): Promise<{ layers: number; ms: number }> {
  const { feeds, shapes } = feedsOf(model);
  const engine = buildEngine(model, { device, fusion, inputShapes: shapes });
  try {
    const ctx = engine.createExecutionContext();
    for (let i = 0; i < warmup; i++) await ctx.execute(feeds);
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await ctx.execute(feeds);
      times.push(performance.now() - t0);
    }
    return { layers: engine.plan.layers.length, ms: median(times) };
  } finally {
    engine.dispose();
  }
}

export async function run(argv: string[]): Promise<number> {
  const opt = (k: string, d: string) => argv.find((a) => a.startsWith(`--${k}=`))?.split('=')[1] ?? d;
  const runs = Number(opt('runs', '10')), warmup = Number(opt('warmup', '2'));
  const filter = opt('filter', '');
  const data = path.resolve(opt('data', '.data'));
  const entries: { name: string; load(): Model }[] = ['models', 'onnx-other'].flatMap((d) => findModels(path.join(data, d)))
    .map((f) => ({ name: path.relative(data, f), load: () => loadModel(f) }));
  entries.push({ name: 'nets/googlenet-like (in code)', load: () => googlenetLike({ size: 64 }) }, { name: 'nets/mobilenetv2-like (in code)', load: () => mobilenetV2Like({ size: 64 }) });
  const files = entries.filter((e) => e.name.includes(filter));
  const device = Device.create();
  console.log(`device: ${device.info.name}; ${runs} runs after ${warmup} warm-up, median wall time of execute()`);
  console.log('');
  console.log('| model | ONNX nodes | layers (no fusion) | layers (fusion) | ms (no fusion) | ms (fusion) | speed-up |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  const failed: string[] = [];
  let tot0 = 0, tot1 = 0, nodes = 0, l0 = 0, l1 = 0, built = 0;
  try {
    for (const { name, load } of files) {
      let model: Model;
      try {
        model = load();
        const a = await measure(device, model, false, warmup, runs);
        const b = await measure(device, load(), true, warmup, runs);
        const n = model.graph.nodes.length;
        console.log(`| ${name} | ${n} | ${a.layers} | ${b.layers} | ${a.ms.toFixed(3)} | ${b.ms.toFixed(3)} | ${(a.ms / b.ms).toFixed(2)}x |`);
        tot0 += a.ms; tot1 += b.ms; nodes += n; l0 += a.layers; l1 += b.layers; built++;
      } catch (e) {
        failed.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    device.dispose();
  }
  console.log(`| **all ${built} built** | ${nodes} | ${l0} | ${l1} | ${tot0.toFixed(1)} | ${tot1.toFixed(1)} | ${(tot0 / Math.max(tot1, 1e-9)).toFixed(2)}x |`);
  if (failed.length) {
    console.log('');
    console.log(`not built (${failed.length}):`);
    for (const f of failed) console.log(`- ${f}`);
  }
  return 0;
}
