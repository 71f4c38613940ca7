/**
 * Cases of the fast integer kernels (int8 matrix units, test/int8/coopmat.test.ts, and the GPU-host
 * check bench/gpu/int8-check.ts): ConvInteger, QLinearConv, MatMulInteger, QLinearMatMul on odd
 * shapes (M, N, K not multiples of the tiles), strides, pads, groups, dilations, per-channel w scales
 * and zero points, uint8 and int8 operands, fused activations. Exact (atol 0) except where an
 * activation other than Relu acts on a float value (one quantization step).
 */
import { strict as assert } from 'assert';
import { buildEngine } from '../../src/api/build';
import type { BuilderConfig } from '../../src/builder/config';
import { preferKernel } from '../../src/builder/selection';
import { compareTensors } from '../../src/conformance/compare';
import type { Device } from '../../src/gpu';
import { interpret } from '../../src/ops/interpreter';
import { Attr } from '../../src/ir/graph';
import { DType } from '../../src/ir/dtype';
import { Tensor } from '../../src/ir/tensor';
import { OpCase, randomTensor, singleNodeModel } from '../helpers/gpu-op';

const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const str = (value: string): Attr => ({ type: 'string', value });
const q = (dtype: DType, dims: number[], seed: number): Tensor =>
  randomTensor(dtype, dims, seed, dtype === 'uint8' ? 0 : -128, dtype === 'uint8' ? 255 : 127);
const scalar = (dtype: DType, v: number): Tensor => Tensor.from(dtype, [], [v]);

export interface Int8Case { name: string; prefix: string; case: OpCase }

function qconv(name: string, x: Tensor, w: Tensor, attrs: Record<string, Attr>, o: { wzp?: Tensor; ws?: Tensor; bias?: boolean; xzp?: number; act?: string; constW?: boolean } = {}): Int8Case {
  const M = w.dims[0];
  const xt = x.dtype;
  return {
    name, prefix: 'qlinearconv',
    case: {
      op: 'QLinearConv', opset: 10, attrs: { ...attrs, ...(o.act ? { vkrt_activation: str(o.act) } : {}) }, rtol: 0, atol: 0,
      inputs: [x, scalar('float32', 0.0235), scalar(xt, o.xzp ?? (xt === 'uint8' ? 120 : -3)), w, o.ws ?? scalar('float32', 0.0121),
        o.wzp ?? scalar(w.dtype, 0), scalar('float32', 0.31), scalar(xt, xt === 'uint8' ? 100 : 4),
        o.bias ? randomTensor('int32', [M], M + 7, -3000, 3000) : null],
      constant: o.constW === false ? [] : [3, 4, 5, 8],
    },
  };
}

function convInt(name: string, x: Tensor, w: Tensor, attrs: Record<string, Attr>, xzp?: Tensor, wzp?: Tensor): Int8Case {
  return { name, prefix: 'convinteger', case: { op: 'ConvInteger', opset: 10, attrs, rtol: 0, atol: 0, inputs: [x, w, xzp ?? null, wzp ?? null], constant: [1] } };
}

function qmm(name: string, a: Tensor, b: Tensor, azp: Tensor, bzp: Tensor, act?: string): Int8Case {
  return {
    name, prefix: 'qlinearmatmul',
    case: {
      op: 'QLinearMatMul', opset: 10, attrs: act ? { vkrt_activation: str(act) } : {}, rtol: 0, atol: 0,
      inputs: [a, scalar('float32', 0.0213), azp, b, scalar('float32', 0.0117), bzp, scalar('float32', 0.37), scalar(a.dtype, a.dtype === 'uint8' ? 128 : 0)],
      constant: [3, 4, 5],
    },
  };
}

function mmInt(name: string, a: Tensor, b: Tensor, azp?: Tensor, bzp?: Tensor): Int8Case {
  return { name, prefix: 'matmulinteger', case: { op: 'MatMulInteger', opset: 10, rtol: 0, atol: 0, inputs: [a, b, azp ?? null, bzp ?? null] } };
}

export const INT8_CASES: Int8Case[] = [
  qconv('QLinearConv u8 x s8 3x3 pad 1, bias, per-channel w scale, Relu', q('uint8', [2, 19, 11, 9], 1), q('int8', [37, 19, 3, 3], 2), { pads: ints([1, 1, 1, 1]) },
    { bias: true, ws: randomTensor('float32', [37], 3, 0.002, 0.02), act: 'Relu' }),
  qconv('QLinearConv u8 x u8 stride 2, dilation, asymmetric pads, per-channel w zero point', q('uint8', [1, 5, 13, 12], 4), q('uint8', [33, 5, 3, 2], 5),
    { strides: ints([2, 1]), dilations: ints([1, 2]), pads: ints([0, 1, 2, 0]) }, { wzp: randomTensor('uint8', [33], 6, 100, 160), bias: true }),
  qconv('QLinearConv s8 x s8 groups 3, per-channel w zero point, Clip (+-1 step)', q('int8', [1, 6, 9, 9], 7), q('int8', [12, 2, 3, 3], 8),
    { group: int(3), pads: ints([1, 1, 1, 1]) }, { wzp: randomTensor('int8', [12], 9, -4, 4), act: 'Clip' }),
  qconv('QLinearConv u8 1x1, 1-D and w at run time', q('uint8', [3, 70, 31], 10), q('int8', [65, 70, 1], 11), {}, { constW: false, xzp: 0 }),
  qconv('QLinearConv u8 3-D', q('uint8', [1, 3, 5, 6, 7], 12), q('int8', [17, 3, 3, 2, 3], 13), { pads: ints([1, 0, 1, 1, 0, 1]) }, { bias: true }),
  convInt('ConvInteger u8 x u8 per-tensor zero points', q('uint8', [1, 16, 13, 11], 14), q('uint8', [70, 16, 3, 3], 15), { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) },
    scalar('uint8', 128), scalar('uint8', 100)),
  convInt('ConvInteger s8 no zero points, depthwise', q('int8', [2, 8, 13, 13], 16), q('int8', [8, 1, 3, 3], 17), { group: int(8), pads: ints([1, 1, 1, 1]) }),
  qmm('QLinearMatMul u8 x s8 odd sizes', q('uint8', [67, 93], 18), q('int8', [93, 45], 19), scalar('uint8', 113), scalar('int8', 0)),
  qmm('QLinearMatMul u8 x u8 batched, per-column b zero point, Sigmoid (+-1 step)', q('uint8', [2, 3, 19, 37], 20), q('uint8', [37, 130], 21), scalar('uint8', 7),
    randomTensor('uint8', [130], 22, 110, 150), 'Sigmoid'),
  mmInt('MatMulInteger s8 x u8 per-row a zero point, broadcast batch', q('int8', [2, 1, 33, 70], 23), q('uint8', [3, 70, 129], 24), randomTensor('int8', [33, 1], 25, -5, 5), scalar('uint8', 129)),
  mmInt('MatMulInteger 1 x K x 1', q('uint8', [1, 5], 26), q('uint8', [5, 1], 27), scalar('uint8', 3), scalar('uint8', 250)),
];

/** A case whose activation is not Relu or None may round to the neighbouring value (float math). */
export function caseAtol(c: Int8Case): number {
  const a = c.case.attrs?.vkrt_activation;
  return a && a.type === 'string' && a.value !== 'Relu' ? 1 : 0;
}

/** Runs a case with `kernel` pinned, both param modes, and checks it against the reference (caseAtol). */
export async function checkInt8(device: Device, c: Int8Case, kernel: string, config: BuilderConfig = {}): Promise<void> {
  const { model, feeds } = singleNodeModel(c.case);
  const ref = interpret(model, feeds);
  for (const mode of ['spec', 'push'] as const) {
    const engine = buildEngine(model, { ...config, device, paramMode: mode, selection: preferKernel(kernel) });
    try {
      const layer = engine.plan.layers.find((l) => l.opTypes.includes(c.case.op));
      assert.equal(layer?.kernel, kernel, `${c.name} (${mode}) did not get candidate ${kernel}`);
      const out = await engine.createExecutionContext().execute(feeds);
      for (const [name, expected] of ref) {
        const got = out.get(name);
        assert.ok(got, `output ${name} missing`);
        const m = compareTensors(expected as Tensor, got, { rtol: 0, atol: caseAtol(c) });
        assert.equal(m, undefined, `${c.name} ${kernel} (${mode} params): ${m}`);
      }
    } finally {
      engine.dispose();
    }
  }
}

/**
 * QLinearConv with a residual input (internal inputs 9-13, set by the Q/DQ folding pass's
 * qdq-residual rule): skip tensor, its scale and zero point, and (mid) the quantization the
 * convolution's value had before the Add.
 */
function qconvRes(name: string, x: Tensor, w: Tensor, attrs: Record<string, Attr>, o: { mid: boolean; act?: string; bias?: boolean; ws?: Tensor; skipType?: DType; midType?: DType; group?: number }): Int8Case {
  const base = qconv(name, x, w, { ...attrs, ...(o.group ? { group: int(o.group) } : {}) }, { bias: o.bias ?? true, ws: o.ws, act: o.act });
  const ref = interpretShape(base);
  const st = o.skipType ?? x.dtype;
  const inputs = [...base.case.inputs, q(st, ref, 31 + ref.length), scalar('float32', 0.027), scalar(st, st === 'uint8' ? 131 : -5)];
  const mt = o.midType ?? x.dtype;
  if (o.mid) inputs.push(scalar('float32', 0.19), scalar(mt, mt === 'uint8' ? 117 : 2));
  return { name, prefix: 'qlinearconv', case: { ...base.case, inputs } };
}

/** The output dims of a QLinearConv case (its reference on the inputs). */
function interpretShape(c: Int8Case): number[] {
  const { model, feeds } = singleNodeModel(c.case);
  return ([...interpret(model, feeds).values()][0] as Tensor).dims.slice();
}

export const RESIDUAL_CASES: Int8Case[] = [
  qconvRes('QLinearConv u8 3x3 pad 1 + u8 residual (mid quantization), Relu', q('uint8', [2, 19, 9, 7], 40), q('int8', [19, 19, 3, 3], 41), { pads: ints([1, 1, 1, 1]) },
    { mid: true, act: 'Relu', ws: randomTensor('float32', [19], 42, 0.002, 0.02) }),
  qconvRes('QLinearConv s8 1x1 stride 2 + s8 residual (float conv value), no activation', q('int8', [1, 37, 11, 13], 43), q('int8', [21, 37, 1, 1], 44), { strides: ints([2, 2]) },
    { mid: false }),
  qconvRes('QLinearConv u8 + s8 residual (mid), Clip (+-1 step)', q('uint8', [1, 6, 8, 8], 45), q('int8', [10, 6, 3, 3], 46), { pads: ints([1, 1, 1, 1]) },
    { mid: true, act: 'Clip', skipType: 'int8' }),
  qconvRes('QLinearConv s8 3x3 stride 2 + s8 residual (s8 mid), asymmetric pads, Relu', q('int8', [1, 9, 11, 10], 47), q('int8', [14, 9, 3, 3], 48), { strides: ints([2, 2]), pads: ints([1, 0, 1, 1]) },
    { mid: true, act: 'Relu', midType: 'int8' }),
];

/** Depthwise QLinearConv / ConvInteger (one input channel per group): the direct kernel's cases. */
export const DEPTHWISE_CASES: Int8Case[] = [
  qconv('depthwise u8 x s8 3x3 stride 2 pad 1, 13 channels, bias, per-channel w scale, Relu', q('uint8', [2, 13, 15, 11], 50), q('int8', [13, 1, 3, 3], 51),
    { group: int(13), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]) }, { bias: true, ws: randomTensor('float32', [13], 52, 0.002, 0.02), act: 'Relu' }),
  qconv('depthwise s8 multiplier 3, dilation 2, asymmetric pads, per-channel w zero point, Clip (+-1 step)', q('int8', [1, 7, 12, 9], 53), q('int8', [21, 1, 3, 3], 54),
    { group: int(7), dilations: ints([2, 2]), pads: ints([2, 1, 0, 2]) }, { wzp: randomTensor('int8', [21], 55, -4, 4), act: 'Clip', bias: true }),
  qconv('depthwise u8 1-D 5 taps stride 2, w at run time', q('uint8', [2, 9, 23], 56), q('int8', [9, 1, 5], 57), { group: int(9), strides: ints([2]), pads: ints([2, 1]) },
    { constW: false }),
  qconv('depthwise u8 3-D', q('uint8', [1, 5, 4, 6, 7], 58), q('int8', [5, 1, 2, 3, 3], 59), { group: int(5), pads: ints([0, 1, 1, 1, 1, 1]) }, { bias: true }),
  qconvRes('depthwise u8 3x3 + u8 residual (mid), Relu', q('uint8', [1, 11, 7, 9], 60), q('int8', [11, 1, 3, 3], 61), { pads: ints([1, 1, 1, 1]) },
    { mid: true, act: 'Relu', group: 11 }),
  convInt('ConvInteger s8 depthwise stride 2, no zero points', q('int8', [2, 8, 13, 13], 62), q('int8', [8, 1, 3, 3], 63), { group: int(8), pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) }),
];
