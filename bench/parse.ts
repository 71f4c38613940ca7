/**
 * ONNX parse throughput: builds a ~100 MB model in memory with the encoder (a few large float32
 * initializers plus a few hundred small nodes with their own weights and attributes), writes it to
 * a temporary file, then times loadModel (read + parse) and parseModel (bytes already in memory).
 * Median of several runs, printed as a Markdown table. Issue 3's target: under 1 s for 100 MB.
 *
 *   npx tsx bench/parse.ts [--mb=100] [--runs=7] [--nodes=400]
 *   npm run bench -- parse [same options]   (once listed in bench/main.ts)
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { GraphBuilder } from '../src/ir/builder';
import { Tensor } from '../src/ir/tensor';
import { loadModel, parseModel } from '../src/onnx/parse';
import { serializeModel } from '../src/onnx/serialize';

function option(argv: string[], name: string, dflt: number): number {
  const a = argv.find((x) => x.startsWith(`--${name}=`));
  const v = a ? Number(a.slice(name.length + 3)) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * A model of about `mb` MB: 4 big [rows, 1024] float32 weights and `nodes` small Conv/Add/Relu
 * nodes. It is only parsed, never run, so its shapes need not chain.
 */
export function syntheticModel(mb: number, nodes: number): Uint8Array {
  const b = new GraphBuilder('parse_bench');
  let x = b.input('x', 'float32', ['N', 1024]);
  const big = 4;
  const rows = Math.floor((mb * 1e6 * 0.995) / big / 1024 / 4);
  for (let k = 0; k < big; k++) {
    const data = new Float32Array(rows * 1024);
    for (let i = 0; i < data.length; i += 997) data[i] = i * 1e-6;
    const w = b.initializer(`big_${k}`, new Tensor('float32', [rows, 1024], data));
    [x] = b.node('Gemm', [x, w], { transB: 1, alpha: 1.0, beta: 0.5 });
  }
  let y = b.node('Reshape', [x, b.constant(Tensor.from('int64', [4], [-1, 4, 16, 16]), 'shape')])[0];
  for (let k = 0; k < nodes / 3; k++) {
    const w = b.constant(Tensor.from('float32', [4, 4, 3, 3], Array.from({ length: 144 }, (_, i) => (i % 7) / 7)), `w${k}`);
    const bias = b.constant(Tensor.from('float32', [4], [0.1, 0.2, 0.3, 0.4]), `b${k}`);
    [y] = b.node('Conv', [y, w, bias], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1], dilations: [1, 1], group: 1 });
    [y] = b.node('Add', [y, b.constant(Tensor.from('float32', [1], [0.5]), `c${k}`)]);
    [y] = b.node('Relu', [y]);
  }
  b.output(y, 'float32', ['N', 4, 16, 16]);
  return serializeModel(b.build({ producerName: 'vkrt-bench' }));
}

export async function run(argv: string[]): Promise<number> {
  const mb = option(argv, 'mb', 100);
  const runs = option(argv, 'runs', 7);
  const nodes = option(argv, 'nodes', 400);
  const t0 = performance.now();
  const bytes = syntheticModel(mb, nodes);
  const encodeMs = performance.now() - t0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-bench-parse-'));
  const file = path.join(dir, 'model.onnx');
  try {
    fs.writeFileSync(file, bytes);
    const size = bytes.length / 1e6;
    const time = (fn: () => unknown) => {
      const ts: number[] = [];
      for (let i = 0; i < runs; i++) {
        const s = performance.now();
        fn();
        ts.push(performance.now() - s);
      }
      return ts;
    };
    let nodeCount = 0;
    parseModel(bytes); // warm-up (JIT, protobufjs codegen)
    const load = time(() => { nodeCount = loadModel(file).graph.nodes.length; });
    const parse = time(() => parseModel(bytes));
    const encode = time(() => serializeModel(parseModel(bytes)));
    const row = (what: string, ts: number[]) => {
      const med = median(ts);
      return `| ${what} | ${med.toFixed(1)} | ${Math.min(...ts).toFixed(1)} | ${(size / (med / 1000)).toFixed(0)} |`;
    };
    console.log(`ONNX parse: ${size.toFixed(1)} MB, ${nodeCount} nodes, ${runs} runs (model built by the encoder in ${encodeMs.toFixed(0)} ms); node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'}`);
    console.log('');
    console.log('| step | median ms | min ms | MB/s |');
    console.log('|---|---:|---:|---:|');
    console.log(row('loadModel (read file + parse)', load));
    console.log(row('parseModel (bytes in memory)', parse));
    console.log(row('parse + serializeModel', encode));
    const ok = median(load) < 1000 * (size / 100);
    console.log('');
    console.log(`target (< 1 s per 100 MB, loadModel): ${ok ? 'met' : 'NOT met'}`);
    return 0;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => { process.exitCode = code; },
    (e) => { console.error(`bench parse: ${(e as Error).stack}`); process.exitCode = 1; },
  );
}
