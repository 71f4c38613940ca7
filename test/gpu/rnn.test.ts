/**
 * GPU kernels of RNN, GRU and LSTM against the reference (both param modes, validation layer on):
 * every direction, both layouts, sequence_lens shorter than the sequence (and zero), initial states,
 * peepholes, input_forget, linear_before_reset, clip, activations with alpha/beta, hidden sizes on
 * either side of the workgroup, weights given at run time, and absent outputs.
 */
import { strict as assert } from 'assert';
import { Attr, Graph, Model, Node } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { Device } from '../../src/gpu';
import { interpret } from '../../src/ops/interpreter';
import { buildEngine } from '../../src/api/build';
import { Engine } from '../../src/runtime/engine';
import { compareTensors } from '../../src/conformance/compare';
import { openDevice } from '../helpers/gpu';
import { checkOp, randomTensor } from '../helpers/gpu-op';

const int = (value: number): Attr => ({ type: 'int', value });
const str = (value: string): Attr => ({ type: 'string', value });
const strs = (value: string[]): Attr => ({ type: 'strings', value });
const floats = (value: number[]): Attr => ({ type: 'floats', value });
const flt = (value: number): Attr => ({ type: 'float', value });

const GATES: Record<string, number> = { RNN: 1, GRU: 3, LSTM: 4 };

interface Case {
  op: 'RNN' | 'GRU' | 'LSTM';
  seq: number; batch: number; input: number; hidden: number;
  direction?: 'forward' | 'reverse' | 'bidirectional';
  layout?: 0 | 1;
  lens?: number[];
  h0?: boolean; c0?: boolean; peep?: boolean; bias?: boolean;
  attrs?: Record<string, Attr>;
  /** W, R, B as run-time inputs instead of initializers */
  runtimeWeights?: boolean;
  seed: number;
}

function inputsOf(c: Case): (Tensor | null)[] {
  const nd = c.direction === 'bidirectional' ? 2 : 1;
  const g = GATES[c.op] * c.hidden;
  const scale = 1 / Math.sqrt(c.hidden);
  const xDims = c.layout ? [c.batch, c.seq, c.input] : [c.seq, c.batch, c.input];
  const st = c.layout ? [c.batch, nd, c.hidden] : [nd, c.batch, c.hidden];
  const ins: (Tensor | null)[] = [
    randomTensor('float32', xDims, c.seed, -1, 1),
    randomTensor('float32', [nd, g, c.input], c.seed + 1, -scale, scale),
    randomTensor('float32', [nd, g, c.hidden], c.seed + 2, -scale, scale),
    c.bias === false ? null : randomTensor('float32', [nd, 2 * g], c.seed + 3, -0.5, 0.5),
    c.lens ? Tensor.from('int32', [c.batch], c.lens) : null,
    c.h0 ? randomTensor('float32', st, c.seed + 4, -1, 1) : null,
  ];
  if (c.op === 'LSTM') {
    ins.push(c.c0 ? randomTensor('float32', st, c.seed + 5, -1, 1) : null);
    ins.push(c.peep ? randomTensor('float32', [nd, 3 * c.hidden], c.seed + 6, -0.5, 0.5) : null);
  }
  while (ins.length && ins[ins.length - 1] === null) ins.pop();
  return ins;
}

async function check(device: Device, c: Case): Promise<void> {
  const attrs: Record<string, Attr> = { hidden_size: int(c.hidden), direction: str(c.direction ?? 'forward'), ...(c.attrs ?? {}) };
  if (c.layout) attrs.layout = int(1);
  await checkOp(device, {
    op: c.op, attrs, inputs: inputsOf(c), constant: c.runtimeWeights ? [4] : [1, 2, 3, 4],
    outputs: c.op === 'LSTM' ? 3 : 2, rtol: 1e-4, atol: 2e-5,
  });
}

describe('GPU recurrent kernels (RNN, GRU, LSTM)', function () {
  this.timeout(600000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  for (const op of ['RNN', 'GRU', 'LSTM'] as const) {
    it(`${op}: directions, odd sizes, sequence_lens shorter than the sequence, initial states`, async () => {
      let seed = 100;
      for (const direction of ['forward', 'reverse', 'bidirectional'] as const) {
        await check(device, { op, seq: 7, batch: 3, input: 5, hidden: 13, direction, lens: [7, 3, 0], h0: true, c0: true, seed: seed++ });
        await check(device, { op, seq: 7, batch: 3, input: 4, hidden: 37, direction, seed: seed++ });
      }
      // hidden above the largest workgroup (each invocation owns several units), batch 1
      await check(device, { op, seq: 4, batch: 1, input: 3, hidden: 300, direction: 'bidirectional', h0: true, seed: seed++ });
    });
    it(`${op}: layout 1 (batch first), run-time weights, no bias, clip`, async () => {
      let seed = 200;
      await check(device, { op, seq: 7, batch: 3, input: 6, hidden: 9, direction: 'bidirectional', layout: 1, lens: [2, 7, 5], h0: true, c0: true, seed: seed++ });
      await check(device, { op, seq: 5, batch: 3, input: 6, hidden: 11, direction: 'reverse', runtimeWeights: true, h0: true, seed: seed++ });
      await check(device, { op, seq: 6, batch: 2, input: 3, hidden: 7, bias: false, attrs: { clip: flt(0.3) }, seed: seed++ });
    });
  }

  it('LSTM: peepholes, input_forget, activations with alpha and beta', async () => {
    await check(device, { op: 'LSTM', seq: 7, batch: 3, input: 4, hidden: 13, direction: 'bidirectional', peep: true, c0: true, h0: true, lens: [7, 1, 4], seed: 300 });
    await check(device, { op: 'LSTM', seq: 5, batch: 3, input: 4, hidden: 9, peep: true, attrs: { input_forget: int(1) }, seed: 301 });
    await check(device, {
      op: 'LSTM', seq: 5, batch: 2, input: 3, hidden: 6, direction: 'bidirectional', seed: 302,
      attrs: {
        activations: strs(['HardSigmoid', 'ScaledTanh', 'Affine', 'Sigmoid', 'Softsign', 'Elu']),
        activation_alpha: floats([0.3, 0.8, 1.5, 0.7]), activation_beta: floats([0.4, 1.2, 0.1]),
      },
    });
  });

  it('GRU: linear_before_reset; RNN: every other activation', async () => {
    await check(device, { op: 'GRU', seq: 7, batch: 3, input: 5, hidden: 13, direction: 'bidirectional', attrs: { linear_before_reset: int(1) }, lens: [7, 3, 6], h0: true, seed: 400 });
    await check(device, { op: 'GRU', seq: 4, batch: 3, input: 5, hidden: 10, attrs: { activations: strs(['LeakyRelu', 'Softplus']), activation_alpha: floats([0.2]) }, seed: 401 });
    for (const [k, a] of [['Relu', []], ['ThresholdedRelu', [0.2]], ['Softsign', []], ['Elu', [0.5]]] as const) {
      await check(device, { op: 'RNN', seq: 5, batch: 3, input: 4, hidden: 8, attrs: { activations: strs([k]), activation_alpha: floats([...a]) }, seed: 410 });
    }
  });

  it('a long sequence is one recorded program of two dispatches', async () => {
    const c: Case = { op: 'LSTM', seq: 512, batch: 2, input: 8, hidden: 16, seed: 500 };
    const g = new Graph('long');
    const ins = inputsOf(c);
    g.inputs.push('x');
    g.types.set('x', { kind: 'tensor', dtype: 'float32', shape: [...ins[0]!.dims] });
    ['w', 'r', 'b'].forEach((n, i) => g.initializers.set(n, ins[i + 1]!));
    g.nodes = [new Node({ name: 'lstm', opType: 'LSTM', inputs: ['x', 'w', 'r', 'b'], outputs: ['', 'yh'], attrs: { hidden_size: int(c.hidden) } })];
    g.outputs = ['yh'];
    const m = new Model(g);
    m.opsets.set('', 21);
    const feeds = new Map([['x', ins[0]!]]);
    const ref = interpret(m, feeds).get('yh') as Tensor;
    const engine = buildEngine(m, { device });
    try {
      const layer = engine.plan.layers.find((l) => l.name === 'lstm');
      assert.ok(layer, 'the LSTM layer');
      assert.equal(layer.dispatches.length, 2, 'input projection + recurrence');
      const out = await engine.createExecutionContext().execute(feeds);
      assert.equal(compareTensors(ref, out.get('yh')!, { rtol: 1e-3, atol: 1e-4 }), undefined);
      // an engine file: the loader derives the layer's dispatches again (absent Y included) and they agree
      const loaded = Engine.deserialize(engine.serialize(), { device });
      try {
        const again = await loaded.createExecutionContext().execute(feeds);
        assert.deepEqual(Array.from(again.get('yh')!.data as Float32Array), Array.from(out.get('yh')!.data as Float32Array));
      } finally {
        loaded.dispose();
      }
    } finally {
      engine.dispose();
    }
  });
});
