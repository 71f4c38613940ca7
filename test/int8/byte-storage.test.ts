/**
 * int8/uint8 activations held one byte per element (docs/int8.md, src/builder/int8-storage.ts):
 * an integer network (QuantizeLinear -> QLinearConv+Relu -> MaxPool -> Flatten -> QLinearMatMul ->
 * DequantizeLinear, odd shapes) built with byte storage and with int32 storage gives the
 * reference's results bit for bit, its quantized tensors are stored as bytes with no conversion
 * layer between the integer layers, and its arena is smaller; a tensor read by an op without a
 * byte kernel stays int32; engine files keep byte tensors; the engine's int8/uint8 inputs and
 * outputs keep int32 and meet the byte tensors through conversion layers.
 */
import { strict as assert } from 'assert';
import { Attr, Graph, Model, Node } from '../../src/ir/graph';
import { DType } from '../../src/ir/dtype';
import { Tensor } from '../../src/ir/tensor';
import { interpret } from '../../src/ops/interpreter';
import { buildEngine } from '../../src/api/build';
import { Engine } from '../../src/runtime/engine';
import { Device } from '../../src/gpu';
import { compareTensors } from '../../src/conformance/compare';
import { fromGpuArray, gpuBytes, toGpuArray } from '../../src/kernel/storage';
import { openDevice } from '../helpers/gpu';
import { randomTensor } from '../helpers/gpu-op';

const ints = (value: number[]): Attr => ({ type: 'ints', value });

/**
 * x (float [2, 3, 11, 13]) -> Q (t) -> QLinearConv 3x3 pad 1 + Relu (7 channels) -> MaxPool 2x2
 * -> Flatten -> QLinearMatMul (x 10) -> DQ -> y; `extra`: the conv's output is also read by a Cast
 * to float (an op without a byte kernel), a second output.
 */
function network(t: DType, extra = false): { model: Model; feeds: Map<string, Tensor> } {
  const g = new Graph('bytes');
  const zp = (v: number) => Tensor.from(t, [], [v]);
  const f = (v: number) => Tensor.from('float32', [], [v]);
  const [lo, hi] = t === 'uint8' ? [0, 255] : [-127, 127];
  const inits: Record<string, Tensor> = {
    xs: f(0.03), xz: zp(t === 'uint8' ? 128 : -2), w: randomTensor('int8', [7, 3, 3, 3], 2, -127, 127), ws: randomTensor('float32', [7], 3, 0.004, 0.02),
    wz: Tensor.from('int8', [7], new Array<number>(7).fill(0)), cs: f(0.05), cz: zp(t === 'uint8' ? 3 : -5), b: randomTensor('int32', [7], 4, -800, 800),
    m: randomTensor(t, [7 * 5 * 6, 10], 5, lo, hi), ms: f(0.01), mz: zp(t === 'uint8' ? 120 : 1), ys: f(0.2), yz: zp(t === 'uint8' ? 90 : 0),
  };
  for (const [k, v] of Object.entries(inits)) g.initializers.set(k, v);
  g.inputs.push('x');
  g.types.set('x', { kind: 'tensor', dtype: 'float32', shape: [2, 3, 11, 13] });
  g.nodes = [
    new Node({ name: 'q', opType: 'QuantizeLinear', inputs: ['x', 'xs', 'xz'], outputs: ['xq'] }),
    new Node({ name: 'conv', opType: 'QLinearConv', inputs: ['xq', 'xs', 'xz', 'w', 'ws', 'wz', 'cs', 'cz', 'b'], outputs: ['c'],
      attrs: { pads: ints([1, 1, 1, 1]), vkrt_activation: { type: 'string', value: 'Relu' } } }),
    new Node({ name: 'pool', opType: 'MaxPool', inputs: ['c'], outputs: ['p'], attrs: { kernel_shape: ints([2, 2]), strides: ints([2, 2]) } }),
    new Node({ name: 'flat', opType: 'Flatten', inputs: ['p'], outputs: ['pf'] }),
    new Node({ name: 'mm', opType: 'QLinearMatMul', inputs: ['pf', 'cs', 'cz', 'm', 'ms', 'mz', 'ys', 'yz'], outputs: ['yq'] }),
    new Node({ name: 'dq', opType: 'DequantizeLinear', inputs: ['yq', 'ys', 'yz'], outputs: ['y'] }),
  ];
  g.outputs = ['y'];
  if (extra) {
    g.nodes.push(new Node({ name: 'cast', opType: 'Cast', inputs: ['c'], outputs: ['cf'], attrs: { to: { type: 'int', value: 1 } } }));
    g.outputs.push('cf');
  }
  const m = new Model(g);
  m.opsets.set('', 13);
  const feeds = new Map([['x', randomTensor('float32', [2, 3, 11, 13], 7, -3, 3)]]);
  return { model: m, feeds };
}

describe('INT8 byte storage (int8/uint8 activations one byte per element)', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  const run = async (e: Engine, feeds: Map<string, Tensor>) => e.createExecutionContext().execute(feeds);
  const exact = (ref: Map<string, unknown>, got: Map<string, Tensor>, what: string) => {
    for (const [name, want] of ref) assert.equal(compareTensors(want as Tensor, got.get(name)!, { rtol: 0, atol: 0 }), undefined, `${what}: ${name}`);
  };

  for (const t of ['uint8', 'int8'] as const) {
    it(`${t}: bit-exact against the reference and int32 storage, byte tensors between the integer layers, a smaller arena`, async () => {
      const { model, feeds } = network(t);
      const ref = interpret(model, feeds);
      const i32 = buildEngine(model, { device, int8Storage: false });
      for (const mode of ['spec', 'push'] as const) {
        for (const pin of ['tiled', 'simple', 'coopmat', 'dot4x8']) {
          const e = buildEngine(model, { device, int8Storage: true, paramMode: mode, selection: { name: pin, choose: (r) => r.candidates.find((c) => c.name.includes(pin)) ?? r.candidates[0] } });
          try {
            const byte = t === 'uint8' ? 'u8' : 'i8';
            const gpu = new Map([...e.plan.tensors.values()].map((x) => [x.name, x.gpu]));
            for (const name of ['xq', 'c', 'p', 'yq']) assert.equal(gpu.get(name), byte, `${name} is stored as ${gpu.get(name)}`);
            if (pin === 'dot4x8' && device.info.int8DotProduct) assert.ok(e.plan.layers.some((l) => l.kernel.includes('dot4x8')), 'a packed dot-product layer on byte tensors');
            assert.ok(!e.plan.layers.some((l) => l.kernel.startsWith('convert_')), `conversion layers: ${e.plan.layers.map((l) => l.kernel).join(', ')}`);
            exact(ref, await run(e, feeds), `${mode} ${pin}`);
            assert.ok(e.plan.arenaBytes < i32.plan.arenaBytes, `arena ${e.plan.arenaBytes} (bytes) vs ${i32.plan.arenaBytes} (int32)`);
          } finally {
            e.dispose();
          }
        }
      }
      try {
        assert.ok([...i32.plan.tensors.values()].every((x) => x.gpu !== 'u8' && x.gpu !== 'i8'));
        exact(ref, await run(i32, feeds), 'int32 storage');
      } finally {
        i32.dispose();
      }
    });
  }

  it('a tensor read by an op without a byte kernel stays int32 (no conversion layer), the others are bytes', async () => {
    const { model, feeds } = network('uint8', true);
    const e = buildEngine(model, { device, int8Storage: true });
    try {
      const gpu = new Map([...e.plan.tensors.values()].map((x) => [x.name, x.gpu]));
      assert.equal(gpu.get('c'), 'i32');
      assert.equal(gpu.get('p'), 'u8'); // MaxPool reads int32 and writes bytes
      assert.ok(!e.plan.layers.some((l) => l.kernel.startsWith('convert_')), `conversion layers: ${e.plan.layers.map((l) => l.kernel).join(', ')}`);
      assert.equal(gpu.get('xq'), 'u8');
      assert.equal(gpu.get('yq'), 'u8');
      exact(interpret(model, feeds), await run(e, feeds), 'mixed storage');
    } finally {
      e.dispose();
    }
  });

  it('engine files keep byte tensors; int8/uint8 engine inputs and outputs keep int32 and meet them through conversions', async () => {
    const { model, feeds } = network('int8');
    const built = buildEngine(model, { device, int8Storage: true });
    const loaded = Engine.deserialize(built.serialize(), { device });
    try {
      exact(interpret(model, feeds), await run(loaded, feeds), 'engine file');
      assert.ok([...loaded.plan.tensors.values()].some((x) => x.gpu === 'i8'));
    } finally {
      built.dispose();
      loaded.dispose();
    }
    // one QLinearMatMul with uint8 engine input and output: converted in and out
    const g = new Graph('io');
    g.inputs.push('a');
    g.types.set('a', { kind: 'tensor', dtype: 'uint8', shape: [3, 17] });
    const inits: Record<string, Tensor> = {
      as: Tensor.from('float32', [], [0.02]), az: Tensor.from('uint8', [], [120]), b: randomTensor('uint8', [17, 5], 9, 0, 255),
      bs: Tensor.from('float32', [], [0.03]), bz: Tensor.from('uint8', [], [128]), ys: Tensor.from('float32', [], [0.4]), yz: Tensor.from('uint8', [], [7]),
    };
    for (const [k, v] of Object.entries(inits)) g.initializers.set(k, v);
    g.nodes = [new Node({ name: 'mm', opType: 'QLinearMatMul', inputs: ['a', 'as', 'az', 'b', 'bs', 'bz', 'ys', 'yz'], outputs: ['y'] })];
    g.outputs = ['y'];
    const m = new Model(g);
    m.opsets.set('', 13);
    const f = new Map([['a', randomTensor('uint8', [3, 17], 10, 0, 255)]]);
    const e = buildEngine(m, { device, int8Storage: true });
    try {
      assert.deepEqual(e.plan.layers.map((l) => l.kernel.startsWith('convert_') ? l.kernel : 'op'), ['convert_i32_to_u8', 'op', 'convert_u8_to_i32']);
      assert.deepEqual([...e.plan.inputs, ...e.plan.outputs].map((x) => x.gpu), ['i32', 'i32']);
      exact(interpret(m, f), await run(e, f), 'engine I/O');
    } finally {
      e.dispose();
    }
  });

  it('host arrays of byte storage: whole words, values wrapped to the byte and read back', () => {
    const t = Tensor.from('int8', [5], [-128, -1, 0, 1, 127]);
    const a = toGpuArray(t, 'i8');
    assert.equal(a.byteLength, gpuBytes('i8', 5));
    assert.equal(a.byteLength, 8);
    const back = fromGpuArray('int8', [5], 'i8', new Uint8Array(a.buffer));
    assert.deepEqual([...back.data as Int8Array], [-128, -1, 0, 1, 127]);
    const u = fromGpuArray('uint8', [3], 'u8', new Uint8Array(toGpuArray(Tensor.from('uint8', [3], [0, 200, 255]), 'u8').buffer));
    assert.deepEqual([...u.data as Uint8Array], [0, 200, 255]);
  });
});
