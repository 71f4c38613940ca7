/**
 * What a shape change costs an engine with an optimization profile (docs/dynamic-shapes.md): per
 * model and batch, the first run at a shape (the plan made by the specializer with the kernels
 * fixed, pipelines and SPIR-V reused, the program recorded) against a run at a shape seen before
 * (the cached plan and program), and, for scale, a whole build of an engine for that shape (in the
 * same process: the SPIR-V cache makes every build after the first skip most GLSL compiles).
 *
 *   npm run bench -- shape-change [--runs=N] [--batches=1,2,3,...]
 *
 * Models: the MobileNetV2-shaped network of src/models/nets.ts (32x32) and the BERT embedding front
 * of test/helpers/dynamic-models.ts (seq 128, hidden 768) with a dynamic batch, and a small MLP.
 */
import { buildEngine } from '../src/api/build';
import { flagString, parseArgs } from '../src/cli/args';
import { Device } from '../src/gpu';
import type { Model } from '../src/ir/graph';
import { Tensor } from '../src/ir/tensor';
import { mobilenetV2Like } from '../src/models/nets';
import type { ExecutionContext } from '../src/runtime/context';
import { bertEmbeddings, dynamicBatchMlp } from '../test/helpers/dynamic-models';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** The model with its first input's dim 0 made symbolic ('N'). */
function dynamicBatch(m: Model): Model {
  const name = m.graph.inputs[0];
  const t = m.graph.types.get(name)!;
  m.graph.types.set(name, { ...t, shape: ['N', ...t.shape!.slice(1)] });
  return m;
}

interface Case {
  name: string;
  model: () => Model;
  input: string;
  /** The input's dims at batch n. */
  dims: (n: number) => number[];
  feed: (dims: number[]) => Tensor;
}

const floatFeed = (dims: number[]) => new Tensor('float32', dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i)));

const CASES: Case[] = [
  { name: 'mlp', model: dynamicBatchMlp, input: 'x', dims: (n) => [n, 4, 4], feed: floatFeed },
  { name: 'mobilenetv2-like 32x32', model: () => dynamicBatch(mobilenetV2Like({ size: 32 })), input: 'input', dims: (n) => [n, 3, 32, 32], feed: floatFeed },
  { name: 'bert embeddings seq 128', model: () => bertEmbeddings(), input: 'input_ids', dims: (n) => [n, 128], feed: (d) => Tensor.from('int64', d, Array.from({ length: d[0] * d[1] }, (_, i) => i % 64)) },
];

async function timeRun(ctx: ExecutionContext, feeds: Record<string, Tensor>): Promise<number> {
  const t0 = performance.now();
  await ctx.execute(feeds);
  return performance.now() - t0;
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['runs', 'batches']);
  const runs = Number(flagString(args, 'runs') ?? 20);
  const batches = (flagString(args, 'batches') ?? '1,2,3,5,8,13,16').split(',').map(Number);
  const device = Device.create();
  console.log(`device: ${device.info.name}; profile batch 1..16, tuned at 4 (heuristic tactics: --builderOptimizationLevel 0)`);
  console.log('| model | batch | first run ms (plan + pipelines + record + run) | plan ms | pipelines+weights ms | record ms | shaders compiled | pipelines created | cached run ms (median) | whole build of a fixed engine ms |');
  console.log(`|${' --- |'.repeat(10)}`);
  try {
    for (const c of CASES) {
      const max = c.dims(16), min = c.dims(1), opt = c.dims(4);
      const t0 = performance.now();
      const engine = buildEngine(c.model(), { device, profiles: [{ [c.input]: { min, opt, max } }] });
      console.log(`| ${c.name}: engine with the profile built in ${(performance.now() - t0).toFixed(0)} ms (${engine.plan.layers.length} layers, ${engine.plan.profiles!.shaders.length} extra profile shaders) |||||||||`);
      const ctx = engine.createExecutionContext();
      await ctx.execute({ [c.input]: c.feed(opt) }); // warm the opt shape
      for (const n of batches) {
        const feeds = { [c.input]: c.feed(c.dims(n)) };
        const first = await timeRun(ctx, feeds);
        const t = ctx.lastTiming!;
        const cost = t.specialization;
        const cached: number[] = [];
        for (let i = 0; i < runs; i++) cached.push(await timeRun(ctx, feeds));
        const b0 = performance.now();
        const fixed = buildEngine(c.model(), { device, inputShapes: { [c.input]: c.dims(n) } });
        const buildMs = performance.now() - b0;
        fixed.dispose();
        console.log('| ' + [c.name, n, first.toFixed(2), cost?.planMs.toFixed(2) ?? '-', cost?.pipelineMs.toFixed(2) ?? '-', t.recordMs?.toFixed(2) ?? '-', cost?.shadersCompiled ?? '-', cost?.pipelinesCreated ?? '-', median(cached).toFixed(2), buildMs.toFixed(0)].join(' | ') + ' |');
      }
      ctx.dispose();
      engine.dispose();
    }
  } finally {
    device.dispose();
  }
  return 0;
}
