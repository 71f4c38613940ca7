/**
 * What a stage boundary costs (docs/dynamic-shapes.md, "Data-dependent shapes"): per input size,
 * a model whose middle is NonZero (GPU stage, counts read back, output trimmed, next stage built
 * for the count) against the same arithmetic without the boundary (one engine), and a host
 * fallback step (TfIdfVectorizer on the CPU reference between two GPU stages).
 *
 *   npm run bench -- staged [--runs=N] [--sizes=4096,262144]
 *
 * Columns: the first run (stage 1 built for the count it meets), a run at a count seen before
 * (engines cached: read-back, trim, upload and two submits), a run at a new count (stage 1 built
 * again), and for scale a one-stage engine doing Relu and Sqrt over the whole input.
 */
import { buildEngine } from '../src/api/build';
import { buildStagedEngine, type StagedEngine } from '../src/api/staged';
import { flagString, parseArgs } from '../src/cli/args';
import { Device } from '../src/gpu';
import { GraphBuilder } from '../src/ir/builder';
import type { Model } from '../src/ir/graph';
import { Tensor } from '../src/ir/tensor';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** y = Sqrt(Gather(x, NonZero(Relu(x)))): the positive values' roots, in order. */
function nonZeroModel(n: number): Model {
  const b = new GraphBuilder('nonzero', { '': 17 });
  const x = b.input('x', 'float32', [n]);
  const [r] = b.node('Relu', [x]);
  const [nz] = b.node('NonZero', [r]);
  const [idx] = b.node('Squeeze', [nz, b.constant(Tensor.from('int64', [1], [0]))]);
  const [g] = b.node('Gather', [x, idx]);
  b.node('Sqrt', [g], {}, { outputs: ['y'] });
  b.output('y', 'float32');
  return b.build();
}

/** y = -TfIdfVectorizer(Cast(Floor(Relu(x) * 8))): a host step (no GPU kernel) between GPU stages. */
function tfidfModel(n: number): Model {
  const b = new GraphBuilder('tfidf', { '': 17 });
  const x = b.input('x', 'float32', [n]);
  const [r] = b.node('Relu', [x]);
  const [m] = b.node('Mul', [r, b.constant(Tensor.from('float32', [], [8]))]);
  const [f] = b.node('Floor', [m]);
  const [c] = b.node('Cast', [f], { to: 6 });
  const [t] = b.node('TfIdfVectorizer', [c], { mode: 'TF', min_gram_length: 1, max_gram_length: 1, max_skip_count: 0, ngram_counts: [0], ngram_indexes: [0, 1, 2, 3, 4, 5, 6, 7], pool_int64s: [0, 1, 2, 3, 4, 5, 6, 7] });
  b.node('Neg', [t], {}, { outputs: ['y'] });
  b.output('y', 'float32');
  return b.build();
}

/** y = Sqrt(Relu(x)): the same arithmetic, one engine, no boundary. */
function plainModel(n: number): Model {
  const b = new GraphBuilder('plain', { '': 17 });
  const x = b.input('x', 'float32', [n]);
  const [r] = b.node('Relu', [x]);
  b.node('Sqrt', [r], {}, { outputs: ['y'] });
  b.output('y', 'float32');
  return b.build();
}

function feed(n: number, phase: number): Tensor {
  return new Tensor('float32', [n], Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + phase)));
}

async function timed(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function stagedRow(se: StagedEngine, n: number, runs: number): Promise<{ first: number; cached: number; fresh: number }> {
  const x = feed(n, 0);
  const first = await timed(() => se.execute({ x }));
  const cached: number[] = [];
  for (let k = 0; k < runs; k++) cached.push(await timed(() => se.execute({ x })));
  const fresh: number[] = [];
  for (let k = 1; k <= Math.min(runs, 3); k++) fresh.push(await timed(() => se.execute({ x: feed(n, k) })));
  return { first, cached: median(cached), fresh: median(fresh) };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, ['runs', 'sizes']);
  const runs = Number(flagString(args, 'runs') ?? 10);
  const sizes = (flagString(args, 'sizes') ?? '4096,262144').split(',').map(Number);
  const device = Device.create();
  try {
    console.log(`device: ${device.info.name}; ${runs} runs per cached figure (median), wall time in ms`);
    console.log('');
    console.log('| model | elements | build (ms) | first run (ms) | cached run (ms) | run at a new count (ms) | one engine, no boundary (ms) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- |');
    for (const n of sizes) {
      const plain = buildEngine(plainModel(n), { device });
      const ctx = plain.createExecutionContext();
      const x = feed(n, 0);
      await ctx.execute({ x });
      const pt: number[] = [];
      for (let k = 0; k < runs; k++) pt.push(await timed(() => ctx.execute({ x })));
      plain.dispose();
      for (const [name, make, fallback] of [['NonZero (GPU stage boundary)', nonZeroModel, false], ['TfIdfVectorizer (host fallback step)', tfidfModel, true]] as const) {
        const t0 = performance.now();
        const se = buildStagedEngine(make(n), { device, hostFallback: fallback });
        const build = performance.now() - t0;
        try {
          const r = await stagedRow(se, n, runs);
          console.log(`| ${name} | ${n} | ${build.toFixed(1)} | ${r.first.toFixed(1)} | ${r.cached.toFixed(2)} | ${r.fresh.toFixed(1)} | ${median(pt).toFixed(2)} |`);
        } finally {
          se.dispose();
        }
      }
    }
    return 0;
  } finally {
    device.dispose();
  }
}
