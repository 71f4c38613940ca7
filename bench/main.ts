/**
 * Benchmarks (never timed assertions in tests): `npm run bench -- <name> [options]`; plain
 * `npm run bench` runs `peers` (vkrt against onnxruntime-node on this machine).
 * Each benchmark is a module exporting `run(argv): Promise<number>` and prints a Markdown table.
 * Compiled form (no tsx needed, e.g. on the GPU host): `npm run build:bench && node dist/bench/bench/main.js <name>`.
 */
const BENCHES: Record<string, { module: string; summary: string }> = {
  peers: { module: './peers', summary: 'vkrt vs onnxruntime-node (CPU) per model: build time, latency, throughput, peak memory, ratio (the default)' },
  parse: { module: './parse', summary: 'ONNX parse throughput on a synthetic ~100 MB model' },
  gpu: { module: './gpu/vkrt', summary: 'vkrt side of the GPU benchmark (bench/gpu/run.sh runs it after the PyTorch side)' },
  fusion: { module: './fusion', summary: 'ONNX nodes, engine layers and latency without and with the graph optimizer, per model in .data' },
  native: { module: './native', summary: 'submit+await overhead of a recorded program; copy-shader bandwidth (GPU timestamps)' },
  'shape-change': { module: './shape-change', summary: 'optimization profiles: first run at a new shape (plan made, program recorded) vs a cached shape vs a whole build, per batch' },
  serve: { module: './serve', summary: 'vkrt serve (dynamic batching, 1/8/64 clients over loopback) vs batch-1 sequential execute(): throughput, p50/p99, average batch' },
  async: { module: './async', summary: 'host overhead per run; execute() one at a time vs enqueue() with 2-3 in flight; 1/2/4 streams (docs/async.md)' },
  staged: { module: './staged', summary: 'staged engines: a NonZero stage boundary and a host fallback step per input size, first run vs cached vs a new count vs one engine' },
  refit: { module: './refit', summary: 'refit vs rebuild time per network (built and loaded engines), refit == rebuild bit for bit (--fp16)' },
};

function usage(): string {
  return ['usage: npm run bench -- <name> [options]', '', 'benchmarks:', ...Object.entries(BENCHES).map(([n, b]) => `  ${n.padEnd(12)} ${b.summary}`)].join('\n');
}

async function main(argv: string[]): Promise<number> {
  // no name, or options only: the default benchmark
  const [name, ...rest] = argv.length && !argv[0].startsWith('--') ? argv : ['peers', ...argv];
  const entry = BENCHES[name];
  if (!entry) {
    console.error(`unknown benchmark '${name}'\n${usage()}`);
    return 2;
  }
   
  const mod = require(entry.module) as { run(argv: string[]): Promise<number> };
  return mod.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`bench: ${(e as Error).message}`);
    process.exitCode = 1;
  },
);
