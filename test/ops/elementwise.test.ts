import { strict as assert } from 'assert';
import { GraphError, UnsupportedError } from '../../src/errors';
import { DType } from '../../src/ir/dtype';
import { Attr, Node, ValueType } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { registry } from '../../src/ops';
import {
  ELEMENTWISE_GLSL_EXTRA, ELEMENTWISE_OPS, ELEMENTWISE_SCALAR,
} from '../../src/ops/elementwise';
import { OpContext, RuntimeValue, ShapeContext } from '../../src/ops/types';
import { Attrs } from '../../src/ir/attrs';

type AttrMap = Record<string, Attr>;

function node(opType: string, n: number, attrs: AttrMap): Node {
  return new Node({ name: 'n0', opType, inputs: Array.from({ length: n }, (_, i) => `i${i}`), outputs: ['y'], attrs });
}

function run(opType: string, inputs: (Tensor | undefined)[], attrs: AttrMap = {}, opset = 21): Tensor {
  const nd = node(opType, inputs.length, attrs);
  const def = registry.resolve(nd, opset);
  const ctx: OpContext = {
    node: nd, opset, attrs: new Attrs(nd), values: inputs, outputCount: 1,
    runGraph: () => { throw new Error('no subgraphs'); },
    fail: (m) => { throw new GraphError(m, nd); },
    unsupported: (m) => { throw new UnsupportedError(m, nd); },
  };
  const out: RuntimeValue[] = def.reference(ctx, inputs);
  return out[0] as Tensor;
}

function infer(opType: string, types: (ValueType | undefined)[], attrs: AttrMap = {}, opset = 21): ValueType {
  const nd = node(opType, types.length, attrs);
  const def = registry.resolve(nd, opset);
  const ctx: ShapeContext = {
    node: nd, opset, attrs: new Attrs(nd), outputCount: 1, constant: () => undefined,
    fail: (m) => { throw new GraphError(m, nd); },
    unsupported: (m) => { throw new UnsupportedError(m, nd); },
  };
  return def.inferShape!(ctx, types)[0];
}

const T = (dtype: DType, dims: number[], v: ArrayLike<number | bigint | string | boolean>) => Tensor.from(dtype, dims, v);
const vals = (t: Tensor) => Array.from(t.data as ArrayLike<unknown>);
const f = (v: number): Attr => ({ type: 'float', value: v });
const i = (v: number): Attr => ({ type: 'int', value: v });
const s = (v: string): Attr => ({ type: 'string', value: v });

describe('elementwise family', () => {
  describe('descriptor table', () => {
    it('every float row has a GLSL expression, every row a scalar function', () => {
      for (const [name, d] of Object.entries(ELEMENTWISE_SCALAR)) {
        assert.ok(d.f || d.i || d.big || d.cmp, name);
        if (d.types.includes('float32') && !name.startsWith('Bitwise') && name !== 'BitShift') assert.ok(d.glsl, `${name} lacks glsl`);
        if (d.glsl) assert.match(d.glsl, /\ba\b/, name);
      }
      assert.ok(ELEMENTWISE_GLSL_EXTRA.Pow && ELEMENTWISE_GLSL_EXTRA.Where);
    });
    it('registers each op once', () => {
      const names = ELEMENTWISE_OPS.map((d) => d.opType);
      assert.equal(new Set(names).size, names.length);
      for (const n of ['Add', 'Relu', 'Gelu', 'Sum', 'Max', 'Where', 'Clip', 'Cast', 'CastLike', 'BitCast', 'Pow', 'PRelu']) assert.ok(names.includes(n), n);
    });
  });

  describe('shape inference', () => {
    it('unary keeps type and shape, symbolic and unknown', () => {
      assert.deepEqual(infer('Relu', [{ dtype: 'float32', shape: ['N', 3] }]), { dtype: 'float32', shape: ['N', 3] });
      assert.deepEqual(infer('IsNaN', [{ dtype: 'float16', shape: [2] }]), { dtype: 'bool', shape: [2] });
      assert.deepEqual(infer('Exp', [{ dtype: 'float32' }]), { dtype: 'float32', shape: undefined });
    });
    it('binary broadcasts static and symbolic dims', () => {
      assert.deepEqual(infer('Add', [{ dtype: 'float32', shape: [2, 1, 4] }, { dtype: 'float32', shape: [3, 1] }]).shape, [2, 3, 4]);
      assert.deepEqual(infer('Mul', [{ dtype: 'float32', shape: ['B', 'S', 8] }, { dtype: 'float32', shape: [8] }]).shape, ['B', 'S', 8]);
      assert.deepEqual(infer('Less', [{ dtype: 'int64', shape: ['B', 1] }, { dtype: 'int64', shape: [1, 5] }]), { dtype: 'bool', shape: ['B', 5] });
      assert.equal(infer('Add', [{ dtype: 'float32' }, { dtype: 'float32', shape: [3] }]).shape, undefined);
      assert.throws(() => infer('Add', [{ dtype: 'float32', shape: [2, 3] }, { dtype: 'float32', shape: [4] }]), GraphError);
    });
    it('variadic, Where, PRelu, Cast, CastLike', () => {
      assert.deepEqual(infer('Sum', [{ dtype: 'float32', shape: [3, 1] }, { dtype: 'float32', shape: [4] }, { dtype: 'float32', shape: [] }]).shape, [3, 4]);
      assert.deepEqual(infer('Where', [{ dtype: 'bool', shape: [2, 1] }, { dtype: 'int64', shape: [3] }, { dtype: 'int64', shape: [] }]), { dtype: 'int64', shape: [2, 3] });
      assert.deepEqual(infer('PRelu', [{ dtype: 'float32', shape: ['N', 3, 4, 4] }, { dtype: 'float32', shape: [3, 1, 1] }]).shape, ['N', 3, 4, 4]);
      assert.deepEqual(infer('Cast', [{ dtype: 'float32', shape: ['N'] }], { to: i(7) }), { dtype: 'int64', shape: ['N'] });
      assert.deepEqual(infer('CastLike', [{ dtype: 'float32', shape: [2] }, { dtype: 'float16', shape: [] }]), { dtype: 'float16', shape: [2] });
      assert.deepEqual(infer('BitCast', [{ dtype: 'float32', shape: [2] }], { to: i(6) }), { dtype: 'int32', shape: [2] });
      assert.throws(() => infer('BitCast', [{ dtype: 'float32', shape: [2] }], { to: i(7) }), GraphError);
    });
  });

  describe('broadcasting and empty tensors', () => {
    it('broadcasts both ways', () => {
      const y = run('Sub', [T('float32', [2, 1], [10, 20]), T('float32', [3], [1, 2, 3])]);
      assert.deepEqual(y.dims, [2, 3]);
      assert.deepEqual(vals(y), [9, 8, 7, 19, 18, 17]);
    });
    it('empty dims give empty outputs', () => {
      const y = run('Add', [T('float32', [0, 3], []), T('float32', [3], [1, 2, 3])]);
      assert.deepEqual(y.dims, [0, 3]);
      assert.equal(run('Relu', [T('float32', [2, 0], [])]).size, 0);
      assert.deepEqual(run('Max', [T('int32', [1, 0], []), T('int32', [4, 1], [1, 2, 3, 4])]).dims, [4, 0]);
    });
    it('refuses shapes that do not broadcast and oversized outputs with a GraphError', () => {
      assert.throws(() => run('Add', [T('float32', [2], [1, 2]), T('float32', [3], [1, 2, 3])]), GraphError);
      // 2^16 x 2^16 = 2^32 elements: refused before allocating
      const a = new Tensor('float32', [65536, 1], new Float32Array(65536));
      const b = new Tensor('float32', [1, 65536], new Float32Array(65536));
      assert.throws(() => run('Add', [a, b]), /exceeds the limit/);
    });
    it('legacy broadcast (opset < 7) aligns B at axis', () => {
      const y = run('Add', [T('float32', [2, 3], [0, 0, 0, 0, 0, 0]), T('float32', [2], [1, 2])], { broadcast: i(1), axis: i(0) }, 6);
      assert.deepEqual(vals(y), [1, 1, 1, 2, 2, 2]);
      assert.throws(() => run('Add', [T('float32', [2, 3], [0, 0, 0, 0, 0, 0]), T('float32', [3], [1, 2, 3])], {}, 6), GraphError);
    });
  });

  describe('integers', () => {
    it('int64 arithmetic is exact', () => {
      const big = 2n ** 62n + 1n;
      assert.deepEqual(vals(run('Add', [T('int64', [1], [big]), T('int64', [1], [big])])), [BigInt.asIntN(64, 2n * big)]);
      assert.deepEqual(vals(run('Mul', [T('int64', [1], [3037000499n]), T('int64', [1], [3037000499n])])), [3037000499n * 3037000499n]);
      assert.deepEqual(vals(run('Sub', [T('uint64', [1], [0n]), T('uint64', [1], [1n])])), [2n ** 64n - 1n]);
    });
    it('integer Div truncates toward zero', () => {
      assert.deepEqual(vals(run('Div', [T('int32', [4], [7, -7, 7, -7]), T('int32', [4], [2, 2, -2, -2])])), [3, -3, -3, 3]);
      assert.deepEqual(vals(run('Div', [T('int64', [2], [-7n, 9007199254740993n]), T('int64', [2], [2n, 1n])])), [-3n, 9007199254740993n]);
    });
    it('int32 Mul wraps like C', () => {
      assert.deepEqual(vals(run('Mul', [T('int32', [1], [65536 * 3]), T('int32', [1], [65536 * 5])])), [0]);
      assert.deepEqual(vals(run('Mul', [T('int32', [1], [123456789]), T('int32', [1], [987654321])])), [Number(BigInt.asIntN(32, 123456789n * 987654321n))]);
    });
    it('Mod: sign follows divisor, fmod=1 follows dividend; float needs fmod=1', () => {
      const a = T('int64', [4], [5n, -5n, 5n, -5n]), b = T('int64', [4], [3n, 3n, -3n, -3n]);
      assert.deepEqual(vals(run('Mod', [a, b])), [2n, 1n, -1n, -2n]);
      assert.deepEqual(vals(run('Mod', [a, b], { fmod: i(1) })), [2n, -2n, 2n, -2n]);
      assert.deepEqual(vals(run('Mod', [T('int8', [2], [-5, 5]), T('int8', [2], [3, -3])])), [1, -1]);
      assert.throws(() => run('Mod', [T('float32', [1], [1]), T('float32', [1], [1])]), GraphError);
    });
    it('BitShift and bitwise ops on uint64 / uint8', () => {
      assert.deepEqual(vals(run('BitShift', [T('uint64', [2], [1n, 2n ** 63n]), T('uint64', [2], [63n, 1n])], { direction: s('LEFT') })), [2n ** 63n, 0n]);
      assert.deepEqual(vals(run('BitShift', [T('uint8', [2], [255, 16]), T('uint8', [2], [1, 200])], { direction: s('LEFT') })), [254, 0]);
      assert.deepEqual(vals(run('BitShift', [T('uint32', [1], [2 ** 32 - 1]), T('uint32', [1], [31])], { direction: s('RIGHT') })), [1]);
      assert.throws(() => run('BitShift', [T('uint8', [1], [1]), T('uint8', [1], [1])], { direction: s('UP') }), GraphError);
      assert.deepEqual(vals(run('BitwiseNot', [T('uint8', [2], [0, 5])])), [255, 250]);
      assert.deepEqual(vals(run('BitwiseNot', [T('uint64', [1], [0n])])), [2n ** 64n - 1n]);
      assert.deepEqual(vals(run('BitwiseXor', [T('int64', [1], [-1n]), T('int64', [1], [5n])])), [-6n]);
    });
    it('Pow with integer and mixed types', () => {
      assert.deepEqual(vals(run('Pow', [T('int64', [3], [3n, 2n, -2n]), T('int64', [3], [39n, 70n, 3n])])), [3n ** 39n, 0n, -8n]);
      assert.deepEqual(vals(run('Pow', [T('int32', [2], [2, 3]), T('float32', [2], [0.5, 2])])), [1, 9]);
      assert.deepEqual(vals(run('Pow', [T('float32', [2], [-2, 4]), T('int64', [2], [3n, -1n])])), [-8, 0.25]);
    });
    it('Abs, Neg, Sign, Relu on integers', () => {
      assert.deepEqual(vals(run('Abs', [T('int64', [2], [-5n, 3n])])), [5n, 3n]);
      assert.deepEqual(vals(run('Neg', [T('int8', [2], [-128, 3])])), [-128, -3]);
      assert.deepEqual(vals(run('Sign', [T('uint32', [2], [0, 7])])), [0, 1]);
      assert.deepEqual(vals(run('Relu', [T('int64', [2], [-5n, 3n])])), [0n, 3n]);
    });
  });

  describe('floats and activations', () => {
    it('Round is half to even; Max/Min propagate NaN', () => {
      assert.deepEqual(vals(run('Round', [T('float32', [5], [0.5, 1.5, 2.5, -0.5, -1.5])])).map((v) => (v as number) + 0), [0, 2, 2, 0, -2]);
      const m = run('Max', [T('float32', [2], [NaN, 1]), T('float32', [2], [0, 2]), T('float32', [1], [1.5])]);
      assert.ok(Number.isNaN(m.data[0] as number));
      assert.equal(m.data[1], 2);
    });
    it('Mean of one input, Sum across broadcast', () => {
      assert.deepEqual(vals(run('Mean', [T('float32', [2], [1, 3])])), [1, 3]);
      assert.deepEqual(vals(run('Mean', [T('float32', [2], [1, 3]), T('float32', [], [3])])), [2, 3]);
      assert.deepEqual(vals(run('Sum', [T('float64', [2, 1], [1, 2]), T('float64', [2], [10, 20])])), [11, 21, 12, 22]);
    });
    it('float16 outputs are rounded to float16', () => {
      const y = run('Add', [T('float16', [1], [1]), T('float16', [1], [0.0001])]);
      assert.equal(y.data[0], 1);
    });
    it('activation attributes and Gelu modes', () => {
      assert.deepEqual(vals(run('LeakyRelu', [T('float64', [2], [-1, 2])])), [-0.01, 2]);
      assert.deepEqual(vals(run('LeakyRelu', [T('float64', [2], [-1, 2])], { alpha: f(0.5) })), [-0.5, 2]);
      const g = run('Gelu', [T('float64', [1], [1])]).data[0] as number;
      const gt = run('Gelu', [T('float64', [1], [1])], { approximate: s('tanh') }).data[0] as number;
      assert.ok(Math.abs(g - 0.8413447460685429) < 1e-7 && Math.abs(gt - 0.8411919906082768) < 1e-7);
      assert.throws(() => run('Gelu', [T('float32', [1], [1])], { approximate: s('fast') }), GraphError);
      assert.ok(Math.abs((run('Erf', [T('float64', [3], [0.1, 1, -2])]).data[2] as number) + 0.9953222650189527) < 1e-7);
    });
    it('Clip: attributes before opset 11, inputs after, min > max gives max', () => {
      assert.deepEqual(vals(run('Clip', [T('float32', [3], [-2, 0, 2])], { min: f(-1), max: f(1) }, 6)), [-1, 0, 1]);
      assert.deepEqual(vals(run('Clip', [T('float32', [3], [-2, 0, 2]), T('float32', [], [-1])], {}, 13)), [-1, 0, 2]);
      assert.deepEqual(vals(run('Clip', [T('float32', [3], [-2, 0, 2]), undefined, T('float32', [], [1])], {}, 13)), [-2, 0, 1]);
      assert.deepEqual(vals(run('Clip', [T('int64', [2], [-5n, 5n]), T('int64', [], [2n]), T('int64', [], [1n])], {}, 13)), [1n, 1n]);
      assert.throws(() => run('Clip', [T('float32', [1], [0]), T('float32', [2], [0, 1])], {}, 13), GraphError);
    });
    it('Where broadcasts three ways and handles strings', () => {
      const y = run('Where', [T('bool', [2, 1], [1, 0]), T('string', [2], ['a', 'b']), T('string', [], ['z'])]);
      assert.deepEqual(y.dims, [2, 2]);
      assert.deepEqual(vals(y), ['a', 'b', 'z', 'z']);
    });
    it('comparisons on strings and int64', () => {
      assert.deepEqual(vals(run('Equal', [T('string', [2], ['x', 'y']), T('string', [], ['y'])])), [0, 1]);
      assert.deepEqual(vals(run('Greater', [T('int64', [2], [2n ** 60n, 1n]), T('int64', [], [2n ** 60n - 1n])])), [1, 0]);
    });
  });

  describe('typed errors', () => {
    it('refuses dtypes and mixed inputs', () => {
      assert.throws(() => run('Sqrt', [T('int32', [1], [4])]), UnsupportedError);
      assert.throws(() => run('Add', [T('float32', [1], [1]), T('float64', [1], [1])]), GraphError);
      assert.throws(() => run('Where', [T('int32', [1], [1]), T('float32', [1], [1]), T('float32', [1], [1])]), GraphError);
      assert.throws(() => run('Relu', []), GraphError);
    });
    it('refuses ops older than their first opset', () => {
      assert.throws(() => run('Gelu', [T('float32', [1], [1])], {}, 19), UnsupportedError);
    });
  });

  describe('Cast', () => {
    const cast = (x: Tensor, to: number, extra: AttrMap = {}, opset = 21) => run('Cast', [x], { to: i(to), ...extra }, opset);
    it('float -> int truncates and wraps; -> bool is != 0', () => {
      assert.deepEqual(vals(cast(T('float32', [3], [-1.7, 2.9, 300]), 3)), [-1, 2, 44]);
      assert.deepEqual(vals(cast(T('float64', [2], [-1.5, 1e19]), 7)), [-1n, BigInt.asIntN(64, 10000000000000000000n)]);
      assert.deepEqual(vals(cast(T('float32', [3], [0, NaN, -2]), 9)), [0, 1, 1]);
    });
    it('string <-> number', () => {
      assert.deepEqual(vals(cast(T('string', [4], ['1.5', 'INF', '-inf', 'NaN']), 1)).map(String), ['1.5', 'Infinity', '-Infinity', 'NaN']);
      assert.deepEqual(vals(cast(T('string', [1], ['9007199254740993']), 7)), [9007199254740993n]);
      assert.deepEqual(vals(cast(T('float32', [3], [0.1, -Infinity, 2]), 8)), ['0.1', '-INF', '2']);
      assert.deepEqual(vals(cast(T('int64', [1], [-3n]), 8)), ['-3']);
    });
    it('float8 saturate, e8m0 round modes, int4 wrap, bfloat16', () => {
      assert.deepEqual(vals(cast(T('float32', [2], [1000, -1000]), 17)), [448, -448]);
      assert.ok(Number.isNaN(cast(T('float32', [1], [1000]), 17, { saturate: i(0) }).data[0] as number));
      assert.deepEqual(vals(cast(T('float32', [3], [1.1, 1.6, 3]), 24, {}, 25)), [2, 2, 4]);
      assert.deepEqual(vals(cast(T('float32', [3], [1.1, 1.6, 3]), 24, { round_mode: s('down') }, 25)), [1, 1, 2]);
      assert.deepEqual(vals(cast(T('float32', [3], [1.1, 1.6, 3]), 24, { round_mode: s('nearest') }, 25)), [1, 2, 4]);
      assert.deepEqual(vals(cast(T('float32', [3], [8, -9, 7.9]), 22)), [-8, 7, 7]);
      assert.deepEqual(vals(cast(T('float32', [1], [1.00390625]), 16)), [1]);
    });
    it('Cast-1 takes a type name; bad codes are typed errors', () => {
      assert.deepEqual(vals(run('Cast', [T('float32', [1], [2.5])], { to: s('INT32') }, 1)), [2]);
      assert.throws(() => cast(T('float32', [1], [1]), 99), GraphError);
    });
    it('BitCast reinterprets bits', () => {
      assert.deepEqual(vals(run('BitCast', [T('float32', [1], [1])], { to: i(6) })), [0x3f800000]);
      assert.deepEqual(vals(run('BitCast', [T('int64', [1], [-1n])], { to: i(13) })), [2n ** 64n - 1n]);
      assert.deepEqual(vals(run('BitCast', [T('uint16', [1], [0x3c00])], { to: i(10) })), [1]);
    });
  });
});
