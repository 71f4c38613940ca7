/**
 * Checks one operator's GPU kernel against its reference: a single-node model built in code runs
 * through the engine in both parameter modes (specialization constants and push constants) and
 * through the reference interpreter, on the same seeded data.
 */
import { strict as assert } from 'assert';
import { Attr, Graph, Model, Node } from '../../src/ir/graph';
import { DType } from '../../src/ir/dtype';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { Device } from '../../src/gpu';
import { compareTensors } from '../../src/conformance/compare';
import { rng } from '../../src/models/rng';
import { buildEngine } from '../../src/api/build';
import { preferKernel } from '../../src/builder/selection';

/** Deterministic pseudo-random numbers (mulberry32); the seed is printed on failure. */
export { rng };

/** A seeded random tensor: floats in [lo, hi), integers in [lo, hi]. */
export function randomTensor(dtype: DType, dims: number[], seed: number, lo = -2, hi = 2): Tensor {
  const r = rng(seed);
  const n = dims.reduce((a, b) => a * b, 1);
  const vals = Array.from({ length: n }, () => {
    if (dtype === 'bool') return r() < 0.5 ? 0 : 1;
    if (dtype.startsWith('float')) return lo + (hi - lo) * r();
    return Math.floor(lo + (hi - lo + 1) * r());
  });
  return Tensor.from(dtype, dims, vals);
}

export interface OpCase {
  op: string;
  opset?: number;
  attrs?: Record<string, Attr>;
  /** Runtime inputs (null: an absent optional input). */
  inputs: (Tensor | null)[];
  /** Indices of inputs that are initializers (known at build time). */
  constant?: number[];
  outputs?: number;
  rtol?: number;
  atol?: number;
  domain?: string;
}

export function singleNodeModel(c: OpCase): { model: Model; feeds: Map<string, Tensor> } {
  const g = new Graph(`${c.op}_test`);
  const feeds = new Map<string, Tensor>();
  const inNames = c.inputs.map((t, i) => {
    if (!t) return '';
    const name = `in${i}`;
    if (c.constant?.includes(i)) {
      g.initializers.set(name, t);
    } else {
      g.inputs.push(name);
      g.types.set(name, { kind: 'tensor', dtype: t.dtype, shape: [...t.dims] });
      feeds.set(name, t);
    }
    return name;
  });
  const outNames = Array.from({ length: c.outputs ?? 1 }, (_, k) => `out${k}`);
  g.nodes = [new Node({ name: `${c.op.toLowerCase()}0`, opType: c.op, domain: c.domain ?? '', inputs: inNames, outputs: outNames, attrs: c.attrs ?? {} })];
  g.outputs = outNames;
  const m = new Model(g);
  m.opsets.set(c.domain ?? '', c.opset ?? 21);
  return { model: m, feeds };
}

/**
 * Runs the case on the GPU (both param modes) and the reference; asserts they agree.
 * `declareOutputs`: the model declares its output types (from the reference), as ONNX files do,
 * for nodes whose shape parameters are run-time inputs the builder cannot fold.
 * `kernel`: build with that candidate wherever a layer offers it (preferKernel), to check each candidate.
 * `int8Storage`: BuilderConfig.int8Storage (false: int8/uint8 activations held as int32).
 */
export async function checkOp(device: Device, c: OpCase, options: { declareOutputs?: boolean; kernel?: string; int8Storage?: boolean } = {}): Promise<void> {
  const { model, feeds } = singleNodeModel(c);
  const ref = interpret(model, feeds);
  if (options.declareOutputs) {
    for (const [name, t] of ref) model.graph.types.set(name, { kind: 'tensor', dtype: (t as Tensor).dtype, shape: [...(t as Tensor).dims] });
  }
  for (const mode of ['spec', 'push'] as const) {
    const engine = buildEngine(model, { device, paramMode: mode, selection: options.kernel ? preferKernel(options.kernel) : undefined, int8Storage: options.int8Storage });
    try {
      const out = await engine.createExecutionContext().execute(feeds);
      for (const [name, expected] of ref) {
        const got = out.get(name);
        assert.ok(got, `${mode}: output ${name} missing`);
        const m = compareTensors(expected as Tensor, got, { rtol: c.rtol ?? 1e-4, atol: c.atol ?? 1e-5 });
        assert.equal(m, undefined, `${c.op} (${mode} params) output ${name}: ${m}`);
      }
    } finally {
      engine.dispose();
    }
  }
}

/** Odd sizes every kernel must handle (1, 3, 13, 127 and a non-multiple of any workgroup). */
export const ODD_SIZES = [1, 3, 13, 127, 1000];
