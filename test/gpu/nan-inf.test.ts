/**
 * ONNX semantics of NaN and ±Inf on the GPU, per op family: every kernel gives what the reference
 * gives on inputs full of NaN, +Inf, -Inf, ±0 and huge values. A NaN in the reference must be a
 * NaN on the GPU (and the other way round); ±Inf must match exactly; finite values within the
 * family's tolerance. Families: the generated pointwise kernels (every float op of the elementwise
 * table, binary ops over every pair of special values, Clip, variadic Max/Min/Sum/Mean), fused
 * pointwise programs, the Conv/Gemm/MatMul epilogues (every activation), pools, reductions,
 * ArgMax/ArgMin and Softmax.
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import { Device } from '../../src/gpu';
import { GraphBuilder } from '../../src/ir/builder';
import { Attr, Model } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { ELEMENTWISE_SCALAR } from '../../src/ops/elementwise';
import { interpret } from '../../src/ops/interpreter';
import { ACTIVATIONS } from '../../src/ops/nn/gpu/epilogue';
import { openDevice } from '../helpers/gpu';
import { OpCase, singleNodeModel } from '../helpers/gpu-op';

const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const float = (value: number): Attr => ({ type: 'float', value });
const str = (value: string): Attr => ({ type: 'string', value });

/** The special values (and a few ordinary ones around them). */
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 3, -3, 1e30, -1e30, 1e-30, 88.5, -100];
const f32 = (dims: number[], values: readonly number[]) => new Tensor('float32', dims, Float32Array.from(values));

/**
 * NaN-aware comparison: NaN must meet NaN, an infinity the same infinity, finite values agree
 * within rtol/atol. Returns the mismatches, described.
 */
function mismatches(expected: Tensor, got: Tensor, rtol: number, atol: number, inputs: string): string[] {
  const out: string[] = [];
  assert.deepEqual(got.dims, expected.dims);
  const e = expected.data as ArrayLike<number | bigint>, g = got.data as ArrayLike<number | bigint>;
  for (let i = 0; i < e.length; i++) {
    const x = Number(e[i]), y = Number(g[i]);
    let ok: boolean;
    if (Number.isNaN(x) || Number.isNaN(y)) ok = Number.isNaN(x) && Number.isNaN(y);
    else if (!Number.isFinite(x) || !Number.isFinite(y)) ok = x === y;
    else ok = Math.abs(x - y) <= atol + rtol * Math.abs(x);
    if (!ok) out.push(`[${i}]${inputs ? ` (${inputs.replace('#', String(i))})` : ''}: GPU ${y}, reference ${x}`);
  }
  return out;
}

describe('NaN and Inf on the GPU (ONNX semantics, as the reference)', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  /** Runs a model on the GPU (fusion on or off) and the reference; returns the mismatches. */
  async function compare(model: Model, feeds: Map<string, Tensor>, what: string, options: { fusion?: boolean; rtol?: number; atol?: number; describe?: string } = {}): Promise<string[]> {
    const ref = interpret(model, feeds);
    const engine = buildEngine(model, { device, fusion: options.fusion ?? false });
    try {
      const out = await engine.createExecutionContext().execute(feeds);
      const bad: string[] = [];
      for (const o of model.graph.outputs) {
        for (const m of mismatches(ref.get(o) as Tensor, out.get(o)!, options.rtol ?? 1e-3, options.atol ?? 1e-5, options.describe ?? '')) bad.push(`${what} ${o}${m}`);
      }
      return bad;
    } finally {
      engine.dispose();
    }
  }

  const opCase = (c: OpCase, what: string, options: { rtol?: number; atol?: number; describe?: string } = {}) => {
    const { model, feeds } = singleNodeModel(c);
    return compare(model, feeds, what, options);
  };

  /** Collects every family's mismatches and fails once, listing them all. */
  function report(bad: string[]): void {
    assert.equal(bad.length, 0, `${bad.length} mismatch(es):\n  ${bad.slice(0, 80).join('\n  ')}`);
  }

  it('every float op of the elementwise table (generated pointwise kernels)', async () => {
    const bad: string[] = [];
    const desc = `x=${'#'}`;
    for (const [op, d] of Object.entries(ELEMENTWISE_SCALAR)) {
      if (d.arity !== 1 || !d.types.includes('float32') || !d.glsl) continue;
      // GLSL's sin/cos/tan are accurate in [-pi, pi] only: huge finite arguments are a precision
      // question, not NaN/Inf semantics (infinities and NaN stay in)
      const x = f32([SPECIAL.length], ['Sin', 'Cos', 'Tan'].includes(op) ? SPECIAL.map((v) => (Math.abs(v) > 1e3 && Number.isFinite(v) ? Math.sign(v) : v)) : SPECIAL);
      const opset = Math.max(21, d.since ?? 1);
      const variants: Record<string, Attr>[] = op === 'Gelu' ? [{}, { approximate: str('tanh') }] : [{}];
      for (const attrs of variants) {
        bad.push(...await opCase({ op, opset, attrs, inputs: [x] }, op, { describe: desc }));
        // one more element: the scalar kernel instead of the 4-wide one
        bad.push(...await opCase({ op, opset, attrs, inputs: [f32([x.size + 1], [...(x.data as Float32Array), NaN])] }, `${op} (scalar kernel)`, { describe: desc }));
      }
    }
    report(bad.map((b) => b.replace(/\((x=)(\d+)\)/, (_, p, i) => `(${p}${Number(i) < SPECIAL.length ? SPECIAL[Number(i)] : NaN})`)));
  });

  it('binary ops over every pair of special values, Clip and the variadic ops', async () => {
    const bad: string[] = [];
    const n = SPECIAL.length;
    const a = f32([n, 1], SPECIAL), b = f32([1, n], SPECIAL);
    const pairs = (i: string) => { const k = Number(i); return `a=${SPECIAL[Math.floor(k / n)]}, b=${SPECIAL[k % n]}`; };
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min']) {
      for (const m of await opCase({ op, inputs: [a, b] }, op)) bad.push(m.replace(/\[(\d+)\]/, (_, i) => `[${i}] (${pairs(i)})`));
    }
    // PRelu's slope broadcasts to X only: X holds every value in every row
    const full = f32([n, n], SPECIAL.flatMap((v) => SPECIAL.map(() => v)));
    for (const m of await opCase({ op: 'PRelu', inputs: [full, f32([n], SPECIAL)] }, 'PRelu')) bad.push(m.replace(/\[(\d+)\]/, (_, i) => `[${i}] (${pairs(i)})`));
    for (const m of await opCase({ op: 'Mod', attrs: { fmod: int(1) }, inputs: [a, b] }, 'Mod')) bad.push(m.replace(/\[(\d+)\]/, (_, i) => `[${i}] (${pairs(i)})`));
    const x = f32([n], SPECIAL);
    for (const [lo, hi] of [[-1, 1], [0, 6], [-Infinity, 0.5], [2, 1], [NaN, 1], [-1, NaN]]) {
      bad.push(...await opCase({ op: 'Clip', inputs: [x, Tensor.scalar('float32', lo), Tensor.scalar('float32', hi)], constant: [1, 2] }, `Clip(${lo}, ${hi})`));
      // bounds only known at run time
      bad.push(...await opCase({ op: 'Clip', inputs: [x, Tensor.scalar('float32', lo), Tensor.scalar('float32', hi)] }, `Clip(${lo}, ${hi}) run-time bounds`));
    }
    bad.push(...await opCase({ op: 'Clip', opset: 6, attrs: { min: float(-1), max: float(1) }, inputs: [x] }, 'Clip opset 6'));
    const rot = (k: number) => f32([n], SPECIAL.map((_, i) => SPECIAL[(i + k) % n]));
    for (const op of ['Max', 'Min', 'Sum', 'Mean']) bad.push(...await opCase({ op, inputs: [x, rot(1), rot(5)] }, `${op} of 3`));
    for (const op of ['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual']) bad.push(...await opCase({ op, inputs: [a, b] }, op));
    report(bad);
  });

  it('fused pointwise programs (Relu, Clip, LeakyRelu, HardSigmoid, Max, Min ... in one kernel)', async () => {
    const bad: string[] = [];
    const n = SPECIAL.length;
    for (const chain of [['Relu', 'Neg', 'Relu'], ['LeakyRelu', 'Clip', 'Sigmoid'], ['HardSigmoid', 'Abs', 'Celu'], ['HardSwish', 'Softplus', 'Relu'], ['Tanh', 'Mish', 'Clip']]) {
      const b = new GraphBuilder('fused', { '': 21 });
      let v = b.input('x', 'float32', [n]);
      const y = b.input('y', 'float32', [n]);
      for (const op of chain) {
        if (op === 'Clip') [v] = b.node('Clip', [v, b.constant(Tensor.scalar('float32', -2), 'lo'), b.constant(Tensor.scalar('float32', 2), 'hi')]);
        else [v] = b.node(op, [v]);
      }
      [v] = b.node('Max', [v, y]);
      [v] = b.node('Min', [v, b.node('Relu', [y])[0]]);
      b.output(v);
      const model = b.build();
      const feeds = new Map([['x', f32([n], SPECIAL)], ['y', f32([n], SPECIAL.map((_, i) => SPECIAL[(i * 7 + 3) % n]))]]);
      const engine = buildEngine(model, { device });
      const fused = engine.plan.layers.length;
      engine.dispose();
      assert.ok(fused < chain.length + 3, `${chain.join('+')}: the chain fused (${fused} layers)`);
      bad.push(...await compare(model, feeds, `fused ${chain.join('+')}+Max+Min`, { fusion: true }));
    }
    report(bad);
  });

  it('Conv, Gemm and MatMul epilogues: every activation on special values', async () => {
    const bad: string[] = [];
    const n = SPECIAL.length;
    // 1x1 Conv / K=1 Gemm and MatMul with weight 1 and bias 0: the pre-activation is the input itself
    const params: Record<string, [number, number]> = { Clip: [-1, 2], LeakyRelu: [0.1, 0], HardSigmoid: [0.2, 0.5], Elu: [0.5, 0] };
    for (const act of ACTIVATIONS) {
      if (act === 'None') continue;
      const attrs: Record<string, Attr> = { vkrt_activation: str(act) };
      if (params[act]) { attrs.vkrt_alpha = float(params[act][0]); attrs.vkrt_beta = float(params[act][1]); }
      bad.push(...await opCase({ op: 'Conv', attrs, inputs: [f32([1, 1, 4, 4], SPECIAL), f32([1, 1, 1, 1], [1]), f32([1], [0])], constant: [1, 2] }, `Conv+${act}`));
      bad.push(...await opCase({ op: 'Gemm', attrs, inputs: [f32([n, 1], SPECIAL), f32([1, 1], [1]), f32([1], [0])], constant: [1, 2] }, `Gemm+${act}`));
      bad.push(...await opCase({ op: 'MatMul', attrs, inputs: [f32([n, 1], SPECIAL), f32([1, 1], [1])], constant: [1] }, `MatMul+${act}`));
    }
    report(bad);
  });

  it('pools: MaxPool (NaN anywhere in a window, with Indices), AveragePool, LpPool, global pools', async () => {
    // the semantics: a NaN anywhere in a window gives NaN and the first NaN's index (numpy's max,
    // GlobalMaxPool, ReduceMax), not only a NaN in the window's first tap
    const { model, feeds } = singleNodeModel({ op: 'MaxPool', attrs: { kernel_shape: ints([2, 2]) }, inputs: [f32([1, 1, 2, 2], [1, NaN, 5, NaN])], outputs: 2 });
    const ref = interpret(model, feeds);
    assert.ok(Number.isNaN((ref.get('out0') as Tensor).data[0] as number));
    assert.equal((ref.get('out1') as Tensor).data[0], 1n);
    const bad: string[] = [];
    // 4x4 planes; NaN at the first, a middle and the last tap of different windows; infinities
    const plane = [
      NaN, 1, 2, 3,
      4, 5, NaN, 7,
      -Infinity, -Infinity, 8, 9,
      -Infinity, -Infinity, 10, NaN,
    ];
    const plane2 = [1, Infinity, -1, 2, 3, -Infinity, Infinity, 5, 0, -0, 1e30, -1e30, 6, 7, 8, 9];
    const x = f32([1, 2, 4, 4], [...plane, ...plane2]);
    for (const [k, s, pads] of [[2, 2, [0, 0, 0, 0]], [3, 1, [1, 1, 1, 1]], [1, 1, [0, 0, 0, 0]]] as [number, number, number[]][]) {
      const attrs = { kernel_shape: ints([k, k]), strides: ints([s, s]), pads: ints(pads) };
      bad.push(...await opCase({ op: 'MaxPool', attrs, inputs: [x], outputs: 2 }, `MaxPool k${k}`));
      bad.push(...await opCase({ op: 'AveragePool', attrs, inputs: [x] }, `AveragePool k${k}`));
      bad.push(...await opCase({ op: 'LpPool', attrs: { ...attrs, p: int(2) }, inputs: [x] }, `LpPool k${k}`));
    }
    for (const op of ['GlobalMaxPool', 'GlobalAveragePool', 'GlobalLpPool']) {
      bad.push(...await opCase({ op, inputs: [x] }, op));
      // a long plane: the workgroup reduction, NaN in one invocation's share only
      const long = Array.from({ length: 1000 }, (_, i) => (i === 777 ? NaN : i === 5 ? Infinity : i % 13));
      bad.push(...await opCase({ op, inputs: [f32([1, 3, 1000], [...long, ...long.map((v) => (Number.isNaN(v) ? 1 : v)), ...long.map((v) => (v === Infinity ? -Infinity : Number.isNaN(v) ? 0 : -v))])] }, `${op} long`));
    }
    report(bad);
  });

  it('reductions, ArgMax/ArgMin and Softmax', async () => {
    const bad: string[] = [];
    const rows = [
      [1, NaN, 3, 2], [Infinity, 1, 2, 3], [-Infinity, -1, -2, -3], [Infinity, -Infinity, 0, 1],
      [NaN, NaN, 1, 2], [-Infinity, -Infinity, -Infinity, -Infinity], [0, -0, 1e30, -1e30], [5, 4, NaN, Infinity],
    ];
    const x = f32([rows.length, 4], rows.flat());
    const axes = new Tensor('int64', [1], BigInt64Array.from([1n]));
    for (const op of ['ReduceMax', 'ReduceMin', 'ReduceSum', 'ReduceMean', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp']) {
      bad.push(...await opCase({ op, inputs: [x, axes], constant: [1] }, op));
      bad.push(...await opCase({ op, inputs: [x, new Tensor('int64', [1], BigInt64Array.from([0n]))], constant: [1] }, `${op} axis 0`));
    }
    // a long row: the workgroup reduction
    const long = f32([2, 3000], Array.from({ length: 6000 }, (_, i) => (i === 2345 ? NaN : i === 4000 ? -Infinity : (i % 17) - 8)));
    for (const op of ['ReduceMax', 'ReduceMin', 'ReduceSum']) bad.push(...await opCase({ op, inputs: [long, axes], constant: [1] }, `${op} long`));
    for (const op of ['ArgMax', 'ArgMin']) {
      for (const last of [0, 1]) bad.push(...await opCase({ op, attrs: { axis: int(1), select_last_index: int(last) }, inputs: [x] }, `${op} last=${last}`));
      bad.push(...await opCase({ op, attrs: { axis: int(1) }, inputs: [long] }, `${op} long`));
    }
    for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) bad.push(...await opCase({ op, attrs: { axis: int(1) }, inputs: [x] }, op));
    report(bad);
  });
});
