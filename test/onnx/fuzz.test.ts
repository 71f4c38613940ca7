/**
 * Fuzz the parser with seeded mutations of real models: flipped bytes, truncations, duplicated
 * ranges, length bombs. Every mutant must give either a Model (whose verify() passes or throws a
 * GraphError, and which serializes and re-parses to the same model) or a typed VkrtError; never
 * another exception, a hang or a blow-up of allocated tensor bytes.
 *
 * Reproduce a failure with FUZZ_SEED=<seed printed in the message>; FUZZ_ITERATIONS sets the count.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { GraphError, VkrtError } from '../../src/errors';
import { Graph, Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { parseModel, parseTensor } from '../../src/onnx/parse';
import { serializeModel, serializeTensor } from '../../src/onnx/serialize';
import { MODELS, modelDigest, rng } from './helpers';

const DATA = path.dirname(MODELS);
const CORPUS = [
  'models/mnist-8/model.onnx',
  'models/tract-keras-tf2-example/example.onnx',
  'models/velardo-keras-onnx2c/lesson9.onnx',
  'models/tfl-helloworld-sine-onnx2c/model.onnx',
  'models/mnist-quantized-connxr/model_quantized.onnx',
  'models/rten-mnist/mnist-external/mnist.onnx', // external data, read relative to the original path
  'models/wonnx-opt-mnist/opt-mnist.onnx',
  // subgraphs and sequences, from the node suite
  'onnx-node/test_if/model.onnx',
  'onnx-node/test_loop11/model.onnx',
  'onnx-node/test_scan9_sum/model.onnx',
  'onnx-node/test_sequence_map_add_2_sequences/model.onnx',
].map((f) => path.join(DATA, f));

type Mutation = { kind: string; apply(b: Uint8Array): Uint8Array };

function mutate(src: Uint8Array, r: () => number): { bytes: Uint8Array; how: string } {
  const int = (n: number) => Math.floor(r() * n);
  const ops: Mutation[] = [
    {
      kind: 'flip',
      apply: (b) => {
        const out = Uint8Array.from(b);
        const n = 1 + int(8);
        for (let i = 0; i < n; i++) {
          const at = int(out.length);
          out[at] = r() < 0.5 ? out[at] ^ (1 << int(8)) : int(256);
        }
        return out;
      },
    },
    { kind: 'truncate', apply: (b) => b.slice(0, int(b.length)) },
    {
      kind: 'splice',
      apply: (b) => {
        const a = int(b.length), len = 1 + int(Math.min(256, b.length - a)), at = int(b.length);
        const out = new Uint8Array(b.length + len);
        out.set(b.subarray(0, at));
        out.set(b.subarray(a, a + len), at);
        out.set(b.subarray(at), at + len);
        return out;
      },
    },
    {
      kind: 'bomb', // a maximal varint (huge length or count) somewhere
      apply: (b) => {
        const out = Uint8Array.from(b);
        const at = int(Math.max(1, out.length - 5));
        out.set([0xff, 0xff, 0xff, 0xff, 0x0f].slice(0, out.length - at), at);
        return out;
      },
    },
    {
      kind: 'delete',
      apply: (b) => {
        const a = int(b.length), len = 1 + int(16);
        return Uint8Array.from([...b.subarray(0, a), ...b.subarray(a + len)]);
      },
    },
  ];
  let bytes = src;
  const how: string[] = [];
  const rounds = 1 + (r() < 0.25 ? int(3) : 0);
  for (let k = 0; k < rounds; k++) {
    const op = ops[int(ops.length)];
    bytes = op.apply(bytes);
    how.push(op.kind);
  }
  return { bytes, how: how.join('+') };
}

function tensorBytesOf(g: Graph): number {
  let n = 0;
  const add = (t: Tensor) => { n += Array.isArray(t.data) ? t.data.length * 8 : t.data.byteLength; };
  for (const t of g.initializers.values()) add(t);
  for (const node of g.nodes) {
    for (const a of node.attrs.values()) {
      for (const v of (Array.isArray(a.value) ? a.value : [a.value]) as unknown[]) {
        if (v instanceof Tensor) add(v);
        if (v instanceof Graph) n += tensorBytesOf(v);
      }
    }
  }
  return n;
}

function check(m: Model, input: Uint8Array, external: boolean): void {
  try {
    m.graph.verify();
  } catch (e) {
    if (!(e instanceof GraphError)) throw e;
  }
  if (!external) {
    // Decoded tensors cost at most a constant factor of the file (int2 unpacks 4x, varint int64 8x).
    const bytes = tensorBytesOf(m.graph);
    assert.ok(bytes <= 16 * input.length + (1 << 20), `tensors take ${bytes} bytes from a ${input.length}-byte file`);
  }
  const again = parseModel(serializeModel(m));
  // ir_version 0 (unset) is written as the current IR version
  const skip = m.irVersion === 0 ? 1 : 0;
  const a = modelDigest(m).slice(skip), b = modelDigest(again).slice(skip);
  const i = a.findIndex((x, k) => x !== b[k]);
  if (i >= 0 || a.length !== b.length) {
    const la = (a[i] ?? '').split('\n'), lb = (b[i] ?? '').split('\n');
    const j = la.findIndex((x, k) => x !== lb[k]);
    let c = 0;
    while (c < la[j].length && la[j][c] === lb[j]?.[c]) c++;
    const cut = (x: string | undefined) => x?.slice(Math.max(0, c - 150), c + 150);
    assert.fail(`serialize/parse round trip changed the model at digest entry ${i}, line ${j}, column ${c}:\n${cut(la[j])}\n---\n${cut(lb[j])}`);
  }
}

describe('onnx: fuzz', function () {
  this.timeout(120000);
  const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1e9);
  const iterations = Number(process.env.FUZZ_ITERATIONS ?? 1500);

  it(`${iterations} seeded mutations of real models give a Model or a typed error (seed ${seed})`, function () {
    const corpus = CORPUS.filter((f) => fs.existsSync(f)).map((f) => ({ file: f, bytes: fs.readFileSync(f) }));
    if (corpus.length === 0) this.skip();
    const r = rng(seed);
    const outcomes = { parsed: 0, typed: 0 };
    const codes = new Map<string, number>();
    const t0 = Date.now();
    for (let i = 0; i < iterations; i++) {
      const { file, bytes: src } = corpus[Math.floor(r() * corpus.length)];
      const { bytes, how } = mutate(src, r);
      const where = `seed ${seed}, iteration ${i}, ${path.relative(DATA, file)}, ${how} (reproduce: FUZZ_SEED=${seed})`;
      const t = Date.now();
      let m: Model | undefined;
      try {
        m = parseModel(bytes, { path: file });
      } catch (e) {
        if (!(e instanceof VkrtError)) {
          assert.fail(`${where}: ${(e as Error)?.constructor?.name} escaped the parser: ${(e as Error)?.stack ?? e}`);
        }
        outcomes.typed++;
        codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
      }
      if (m) {
        try {
          check(m, bytes, file.includes('external'));
        } catch (e) {
          assert.fail(`${where}: ${(e as Error)?.stack ?? e}`);
        }
        outcomes.parsed++;
      }
      assert.ok(Date.now() - t < 5000, `${where}: took ${Date.now() - t} ms`);
    }
    assert.equal(outcomes.parsed + outcomes.typed, iterations);
    if (process.env.FUZZ_VERBOSE) console.log(`fuzz seed ${seed}: ${outcomes.parsed} parsed, ${outcomes.typed} typed errors (${[...codes].map(([c, n]) => `${c} ${n}`).join(', ')}), ${Date.now() - t0} ms`);
  });

  it(`500 seeded mutations of TensorProtos (every dtype) give a Tensor or a typed error (seed ${seed})`, () => {
    const corpus: Uint8Array[] = [
      serializeTensor(Tensor.from('float32', [2, 3], [1, 2, 3, 4, 5, 6]), 'f'),
      serializeTensor(Tensor.from('float16', [4], [1, -2, 0.5, 65504]), 'h'),
      serializeTensor(Tensor.from('int64', [3], [1n, -(2n ** 63n), 7n]), 'l'),
      serializeTensor(Tensor.from('int4', [5], [1, -8, 7, 0, 3]), 'q'),
      serializeTensor(Tensor.from('string', [2], ['a', 'bcd']), 's'),
      serializeTensor(Tensor.from('bool', [3], [1, 0, 1]), 'b'),
      serializeTensor(Tensor.from('complex64', [1], [1, 2]), 'c'),
    ];
    const r = rng(seed ^ 0x5eed);
    for (let i = 0; i < 500; i++) {
      const { bytes, how } = mutate(corpus[Math.floor(r() * corpus.length)], r);
      try {
        const t = parseTensor(bytes);
        parseTensor(serializeTensor(t));
      } catch (e) {
        if (!(e instanceof VkrtError)) assert.fail(`seed ${seed}, tensor iteration ${i}, ${how}: ${(e as Error)?.stack ?? e}`);
      }
    }
  });
});
