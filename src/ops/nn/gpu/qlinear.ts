/**
 * GPU kernels of the integer and quantized nn ops: ConvInteger and QLinearConv
 * (shaders/nn/qconv.comp), MatMulInteger and QLinearMatMul (shaders/nn/qmatmul.comp), exact int32
 * implicit GEMMs with zero points subtracted on load (per tensor, per output channel / per row of A,
 * per column of B) and, for the QLinear ops, a requantizing epilogue that rounds like the reference
 * (shaders/common/nn_quant.glsl); DynamicQuantizeLinear (shaders/nn/dyn_quant.comp: min/max
 * partials, scale and zero point, quantize); blocked QuantizeLinear / DequantizeLinear
 * (shaders/nn/qdq.comp). uint8/int8 values are held as int32. Each GEMM has a tiled and a simple
 * candidate, ordered as the float kernels order theirs.
 */
import { BindingRef, DispatchDesc, KernelContext, KernelImpl, TensorDesc, grid1d } from '../../../kernel/contract';
import { paramLayout } from '../../../kernel/params';
import { glslType, isByte, isPacked, PACKED } from '../../../kernel/storage';
import { collapseBroadcast } from '../../../kernel/pointwise';
import { integerRange, isFloat } from '../../../ir/dtype';
import { ShapeContext } from '../../types';
import { readWindow, windowOutput } from '../../util/nn-conv';
import { broadcastDims } from '../../util/shape';
import { CONV_GEOMETRY, dhw } from './conv';
import { ACT_FIELDS, activationFields, readActivation } from './epilogue';
import { addQCoopMatCandidates } from './qgemm-coopmat';

/**
 * shaders/nn/qconv.comp: the convolution geometry (as conv_gemm's), the batch, whether w's zero
 * point and scale are per output channel (1) or per tensor (0), the output's integer range.
 */
const QCONV = paramLayout('qconv', {
  ...CONV_GEOMETRY, NIMG: 'u32', wzpPerChannel: 'u32', wsPerChannel: 'u32', lo: 'i32', hi: 'i32', ...ACT_FIELDS,
}, 'ConvInteger/QLinearConv, an int32 implicit GEMM (src/ops/nn/gpu/qlinear.ts).');
/**
 * shaders/nn/qmatmul.comp: M x N outputs over K, the batch collapsed to 3 axes (dims outer first,
 * A's and B's strides per batch axis in matrices), zero points (matrix count, per-row of A /
 * per-column of B flag), the output's integer range.
 */
const QMATMUL = paramLayout('qmatmul', {
  M: 'u32', N: 'u32', K: 'u32', batch: { array: 'u32', length: 3 }, aBatch: { array: 'u32', length: 3 }, bBatch: { array: 'u32', length: 3 },
  azpCount: 'u32', azpPerRow: 'u32', bzpCount: 'u32', bzpPerCol: 'u32', lo: 'i32', hi: 'i32', ...ACT_FIELDS,
}, 'MatMulInteger/QLinearMatMul, an int32 GEMM (src/ops/nn/gpu/qlinear.ts).');
/** shaders/nn/dyn_quant.comp: elements, stage-1 partials (workgroups), elements per partial. */
const DYN_QUANT = paramLayout('dyn_quant', { count: 'u32', partials: 'u32', perPartial: 'u32' }, 'DynamicQuantizeLinear, three stages (src/ops/nn/gpu/qlinear.ts).');
/**
 * shaders/nn/qdq.comp: elements, the axis length D and the elements after it, the block size, the
 * scale/zero point strides (outer, block, inner), the quantized integer range.
 */
const QDQ = paramLayout('qdq', {
  count: 'u32', D: 'u32', inner: 'u32', block: 'u32', strideOuter: 'u32', strideBlock: 'u32', strideInner: 'u32', lo: 'i32', hi: 'i32',
}, 'QuantizeLinear/DequantizeLinear, blocked (src/ops/nn/gpu/qlinear.ts).');

const TILE = { BM: 64, BN: 64, TM: 4, TN: 4 };
/** Outputs along a row per invocation of the depthwise kernel (QDW_DIRECT in qconv.comp). */
const QDW_VEC = 4;
const MAX_Z = 65535;
const size = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);

function to3(v: readonly number[], fill: number): number[] {
  return [...new Array<number>(3 - v.length).fill(fill), ...v];
}

/** Binding list and B_* defines: inputs in order, each optional one only when present. */
class Binder {
  bindings: BindingRef[] = [];
  defines: Record<string, string | number> = {};
  add(define: string | undefined, ref: BindingRef): void {
    if (define) this.defines[define] = this.bindings.length;
    this.bindings.push(ref);
  }
}

function intIn(ctx: KernelContext, t: TensorDesc | undefined, name: string): void {
  if (t && ((t.gpu !== 'i32' && !isByte(t.gpu)) || isFloat(t.dtype))) ctx.unsupported(`${name} of type ${t.dtype} has no integer GPU kernel`);
}

/**
 * The storage define of a tensor the kernel reads or writes (X_ST, ...): set (with VKRT_BYTES) when
 * it is held one byte per element, the shader's int otherwise.
 */
function byteStorage(defines: Record<string, string | number>, define: string, t: TensorDesc | undefined): void {
  if (!t || !isByte(t.gpu)) return;
  defines[define] = glslType(t.gpu);
  defines.VKRT_BYTES = 1;
}

function outRange(ctx: KernelContext): [number, number] {
  const y = ctx.outputs[0];
  if ((y.gpu !== 'i32' && !isPacked(y.gpu) && !isByte(y.gpu)) || isFloat(y.dtype)) return ctx.unsupported(`quantized output ${y.dtype} has no GPU kernel`);
  const [lo, hi] = integerRange(y.dtype);
  return [Math.max(lo, -2147483648), Math.min(hi, 2147483647)];
}

/** Two candidates (tiled, simple) of an int GEMM dispatch over (N, M, batch). */
function gemmCandidates(ctx: KernelContext, prefix: string, shader: string, M: number, N: number, batch: number,
  defines: Record<string, string | number>, params: number[], bindings: BindingRef[], tiledFirst: boolean): KernelImpl[] {
  if (batch > MAX_Z) return ctx.unsupported(`${batch} products in one dispatch exceed the limit of ${MAX_Z}`);
  const impls: KernelImpl[] = [];
  const sx = Math.ceil(N / 16), sy = Math.ceil(M / 16);
  if (sx <= ctx.caps.maxGroupsX && sy <= ctx.caps.maxGroupsY) {
    impls.push({ name: `${prefix}_simple`, dispatches: [{ shader, defines, params, workgroup: [16, 16, 1], groups: [sx, sy, batch], bindings }] });
  }
  const tx = Math.ceil(N / TILE.BN), ty = Math.ceil(M / TILE.BM);
  if (tx <= ctx.caps.maxGroupsX && ty <= ctx.caps.maxGroupsY) {
    const d: DispatchDesc = {
      shader, defines: { ...defines, GEMM_TILED: 1 }, params,
      workgroup: [TILE.BN / TILE.TN, TILE.BM / TILE.TM, 1], groups: [tx, ty, batch], bindings,
    };
    const tiled: KernelImpl = { name: `${prefix}_tiled`, dispatches: [d] };
    if (tiledFirst) impls.unshift(tiled);
    else impls.push(tiled);
  }
  if (!impls.length) return ctx.unsupported(`a ${M}x${N} product exceeds the device's dispatch limits`);
  return impls;
}

/**
 * QLinearConv's residual inputs (9 skip, 10 its scale, 11 its zero point, 12/13 the conv output's
 * mid quantization; src/ops/nn/conv.ts residualOf, the epilogue qconv_residual in qconv.comp).
 */
function residualBindings(ctx: KernelContext, b: Binder, y: TensorDesc): void {
  const [r, rs, rz, ms, mz] = [9, 10, 11, 12, 13].map((k) => ctx.inputs[k]);
  if (!r) {
    if (rs || rz || ms || mz) ctx.fail('residual scale or zero point without the residual input 9');
    return;
  }
  if (r.dtype !== 'int8' && r.dtype !== 'uint8') return ctx.unsupported(`a residual of type ${r.dtype} has no GPU kernel`);
  intIn(ctx, r, 'residual');
  if (r.dims.join(',') !== y.dims.join(',')) return ctx.fail(`the residual input [${r.dims.join(',')}] must have the output's shape [${y.dims.join(',')}]`);
  if (!rs) return ctx.fail('the residual input needs its scale (input 10)');
  if (!!ms !== !!mz) return ctx.fail('mid_scale (12) and mid_zero_point (13) come together');
  for (const t of [rs, ms]) if (t && (t.gpu !== 'f32' || size(t.dims) !== 1)) return ctx.unsupported('residual and mid scales must be per-tensor float32');
  for (const t of [rz, mz]) {
    if (!t) continue;
    intIn(ctx, t, 'residual zero point');
    if (isByte(t.gpu)) return ctx.unsupported('a zero point held as bytes has no GPU kernel');
    if (size(t.dims) !== 1) return ctx.unsupported('residual zero points must be per tensor');
  }
  b.add('B_RES', { input: 9 });
  b.add('B_RS', { input: 10 });
  if (rz) b.add('B_RZ', { input: 11 });
  if (ms && mz) {
    b.add('B_MS', { input: 12 });
    b.add('B_MZ', { input: 13 });
    if (mz.dtype !== 'int8' && mz.dtype !== 'uint8') return ctx.unsupported(`a mid quantization to ${mz.dtype} has no GPU kernel`);
    b.defines.RES_MID_SIGNED = mz.dtype === 'int8' ? 1 : 0;
  }
  byteStorage(b.defines, 'R_ST', r);
}

/** ConvInteger (qlinear false) and QLinearConv (true). */
function qconv(ctx: KernelContext, qlinear: boolean): KernelImpl[] {
  const ix = 0, iw = qlinear ? 3 : 1;
  const x = ctx.inputs[ix], w = ctx.inputs[iw];
  const y = ctx.outputs[0];
  const op = qlinear ? 'QLinearConv' : 'ConvInteger';
  if (!x || !w) return ctx.fail(`${op} needs x and w`);
  intIn(ctx, x, 'x'); intIn(ctx, w, 'w');
  const xzp = ctx.inputs[qlinear ? 2 : 2], wzp = ctx.inputs[qlinear ? 5 : 3];
  intIn(ctx, xzp, 'x_zero_point'); intIn(ctx, wzp, 'w_zero_point');
  for (const z of [xzp, wzp, qlinear ? ctx.inputs[7] : undefined]) if (z && isByte(z.gpu)) return ctx.unsupported('a zero point held as bytes has no GPU kernel');
  const nsp = x.dims.length - 2;
  if (nsp < 1 || nsp > 3) return ctx.unsupported(`${op} with ${nsp} spatial axes has no GPU kernel (1-3 are supported)`);
  const sctx = ctx as unknown as ShapeContext;
  const win = readWindow(sctx, nsp, w.dims.slice(2));
  const { padsBegin } = windowOutput(sctx, x.dims.slice(2), win);
  const group = ctx.attrs.int('group', 1);
  const [N, C] = x.dims;
  const M = w.dims[0], Cg = w.dims[1];
  if (group < 1 || C !== Cg * group || M % group !== 0) return ctx.fail(`x has ${C} channels, w [${w.dims.join(',')}] with group ${group} does not match`);
  const Mg = M / group;
  if (xzp && size(xzp.dims) !== 1) return ctx.unsupported(`x_zero_point must be per tensor, got [${xzp.dims.join(',')}]`);
  const perCh = (t: TensorDesc | undefined, name: string): number => {
    if (!t) return 0;
    const n = size(t.dims);
    if (n === 1) return 0;
    if (n === M) return 1;
    return ctx.fail(`${name} has ${n} elements; expected 1 or ${M}`);
  };
  const wzpPer = perCh(wzp, 'w_zero_point');
  const b = new Binder();
  b.add(undefined, { input: ix });
  b.add(undefined, { input: iw });
  if (xzp) b.add('B_XZP', { input: 2 });
  if (wzp) b.add('B_WZP', { input: qlinear ? 5 : 3 });
  let wsPer = 0;
  let lo = 0, hi = 0;
  if (qlinear) {
    const [xs, ws, ys, yzp, bias] = [ctx.inputs[1], ctx.inputs[4], ctx.inputs[6], ctx.inputs[7], ctx.inputs[8]];
    if (!xs || !ws || !ys) return ctx.fail('QLinearConv needs x_scale, w_scale and y_scale');
    if (xs.gpu !== 'f32' || ws.gpu !== 'f32' || ys.gpu !== 'f32') return ctx.unsupported('scales must be floating-point');
    if (size(xs.dims) !== 1 || size(ys.dims) !== 1) return ctx.unsupported('x_scale and y_scale must be per tensor');
    if (yzp && size(yzp.dims) !== 1) return ctx.unsupported('y_zero_point must be per tensor');
    intIn(ctx, yzp, 'y_zero_point'); intIn(ctx, bias, 'B');
    if (bias && size(bias.dims) !== M) return ctx.fail(`bias has ${size(bias.dims)} elements, expected ${M}`);
    wsPer = perCh(ws, 'w_scale');
    b.defines.QLINEAR = 1;
    b.add('B_XS', { input: 1 });
    b.add('B_WS', { input: 4 });
    b.add('B_YS', { input: 6 });
    if (yzp) b.add('B_YZP', { input: 7 });
    if (bias) b.add('B_BIAS', { input: 8 });
    [lo, hi] = outRange(ctx);
    residualBindings(ctx, b, y);
  } else if (y.gpu !== 'i32') return ctx.fail(`ConvInteger output must be int32, got ${y.dtype}`);
  b.add('B_Y', { output: 0 });
  byteStorage(b.defines, 'X_ST', x); byteStorage(b.defines, 'W_ST', w); byteStorage(b.defines, 'Y_ST', y);
  const inSp = to3(x.dims.slice(2), 1), outSp = to3(y.dims.slice(2), 1);
  const params = QCONV.pack({
    C, ...dhw('I', inSp), M, ...dhw('O', outSp), ...dhw('K', to3(win.kernel, 1)), ...dhw('S', to3(win.strides, 1)), ...dhw('P', to3(padsBegin, 0)),
    ...dhw('D', to3(win.dilations, 1)), Cg, Mg, NIMG: N, wzpPerChannel: wzpPer, wsPerChannel: wsPer, lo, hi,
    ...activationFields(readActivation(ctx.attrs, ctx.fail)),
  });
  const outSize = size(outSp), kSize = size(win.kernel);
  const prefix = qlinear ? 'qlinearconv' : 'convinteger';
  const impls = gemmCandidates(ctx, prefix, 'nn/qconv', Mg, N * outSize, group, b.defines, params, b.bindings, Mg >= 16 && Cg * kSize >= 8);
  addQCoopMatCandidates(ctx, impls, {
    shader: 'nn/qconv', M: Mg, N: N * outSize, K: Cg * kSize, batch: group, a: w, b: x, aZp: wzp, bZp: xzp, params, defines: b.defines, bindings: b.bindings,
  }, prefix);
  // depthwise (one input channel per group, any multiplier): the direct kernel goes first; a GEMM
  // per group of Mg rows and K = kernel taps fills no tile
  if (Cg === 1 && group > 1) {
    const count = N * M * outSp[0] * outSp[1] * Math.ceil(outSp[2] / QDW_VEC);
    impls.unshift({
      name: `${prefix}_depthwise`,
      dispatches: [{ shader: 'nn/qconv', defines: { ...b.defines, QDW_DIRECT: 1, QDW_VEC }, params, workgroup: [64, 1, 1], groups: grid1d(count, 64, ctx.caps), bindings: b.bindings }],
    });
  }
  return impls;
}

export const convIntegerKernel = (ctx: KernelContext): KernelImpl[] => qconv(ctx, false);
export const qlinearConvKernel = (ctx: KernelContext): KernelImpl[] => qconv(ctx, true);

/** MatMulInteger (qlinear false) and QLinearMatMul (true). */
function qmatmul(ctx: KernelContext, qlinear: boolean): KernelImpl[] {
  const ia = 0, ib = qlinear ? 3 : 1;
  const a = ctx.inputs[ia], bt = ctx.inputs[ib];
  const op = qlinear ? 'QLinearMatMul' : 'MatMulInteger';
  if (!a || !bt) return ctx.fail(`${op} needs A and B`);
  intIn(ctx, a, 'A'); intIn(ctx, bt, 'B');
  const azp = ctx.inputs[2], bzp = ctx.inputs[qlinear ? 5 : 3];
  intIn(ctx, azp, 'a_zero_point'); intIn(ctx, bzp, 'b_zero_point');
  for (const z of [azp, bzp, qlinear ? ctx.inputs[7] : undefined]) if (z && isByte(z.gpu)) return ctx.unsupported('a zero point held as bytes has no GPU kernel');
  const A = a.dims.length === 1 ? [1, a.dims[0]] : a.dims;
  const B = bt.dims.length === 1 ? [bt.dims[0], 1] : bt.dims;
  const M = A[A.length - 2], K = A[A.length - 1], N = B[B.length - 1];
  const ba = A.slice(0, -2), bb = B.slice(0, -2);
  const bo = broadcastDims(ba, bb) as number[];
  const { dims, strides } = collapseBroadcast(bo, [ba, bb]);
  if (dims.length > 3) return ctx.unsupported(`${op} batch axes [${bo.join(',')}] do not collapse to 3 axes`);
  const pad = (v: number[], fill: number): number[] => [...new Array<number>(3 - v.length).fill(fill), ...v];
  // zero points: [count, flag] with index ((matrix % count) * rows + row) * flag
  const zpLayout = (zp: TensorDesc | undefined, isA: boolean, name: string): [number, number] => {
    if (!zp) return [1, 0];
    const n = size(zp.dims);
    if (n === 1) return [1, 0];
    const d = isA ? a.dims : bt.dims;
    if (d.length < 2) return ctx.unsupported(`a per-${isA ? 'row' : 'column'} ${name} of a 1-D operand has no GPU kernel`);
    const rows = isA ? M : N;
    const last = zp.dims[zp.dims.length - 1];
    const ok = n % rows === 0 && (isA ? last === (zp.dims.length === 1 ? rows : 1) : last === rows);
    if (!ok) return ctx.fail(`${name} dims [${zp.dims.join(',')}] are neither a scalar nor per-${isA ? 'row of A' : 'column of B'}`);
    return [n / rows, 1];
  };
  const [azc, azf] = zpLayout(azp, true, 'a_zero_point');
  const [bzc, bzf] = zpLayout(bzp, false, 'b_zero_point');
  const b = new Binder();
  b.add(undefined, { input: ia });
  b.add(undefined, { input: ib });
  if (azp) b.add('B_AZP', { input: 2 });
  if (bzp) b.add('B_BZP', { input: qlinear ? 5 : 3 });
  let lo = 0, hi = 0;
  if (qlinear) {
    const [as, bs, ys, yzp] = [ctx.inputs[1], ctx.inputs[4], ctx.inputs[6], ctx.inputs[7]];
    if (!as || !bs || !ys) return ctx.fail('QLinearMatMul needs a_scale, b_scale and y_scale');
    if (as.gpu !== 'f32' || bs.gpu !== 'f32' || ys.gpu !== 'f32') return ctx.unsupported('scales must be floating-point');
    if (size(as.dims) !== 1 || size(bs.dims) !== 1 || size(ys.dims) !== 1) return ctx.unsupported('only per-tensor scales have a GPU kernel');
    if (yzp && size(yzp.dims) !== 1) return ctx.unsupported('y_zero_point must be per tensor');
    intIn(ctx, yzp, 'y_zero_point');
    b.defines.QLINEAR = 1;
    b.add('B_AS', { input: 1 });
    b.add('B_BS', { input: 4 });
    b.add('B_YS', { input: 6 });
    if (yzp) b.add('B_YZP', { input: 7 });
    [lo, hi] = outRange(ctx);
  }
  b.add('B_Y', { output: 0 });
  byteStorage(b.defines, 'A_ST', a); byteStorage(b.defines, 'B_ST', bt); byteStorage(b.defines, 'Y_ST', ctx.outputs[0]);
  const batch = pad(dims, 1);
  const params = QMATMUL.pack({
    M, N, K, batch, aBatch: pad(strides[0], 0), bBatch: pad(strides[1], 0), azpCount: azc, azpPerRow: azf, bzpCount: bzc, bzpPerCol: bzf, lo, hi,
    ...activationFields(readActivation(ctx.attrs, ctx.fail)),
  });
  const prefix = qlinear ? 'qlinearmatmul' : 'matmulinteger';
  const impls = gemmCandidates(ctx, prefix, 'nn/qmatmul', M, N, size(batch), b.defines, params, b.bindings, M >= 16 && N >= 16);
  addQCoopMatCandidates(ctx, impls, {
    shader: 'nn/qmatmul', M, N, K, batch: size(batch), a, b: bt, aZp: azp, bZp: bzp, params, defines: b.defines, bindings: b.bindings,
  }, prefix);
  return impls;
}

export const matmulIntegerKernel = (ctx: KernelContext): KernelImpl[] => qmatmul(ctx, false);
export const qlinearMatmulKernel = (ctx: KernelContext): KernelImpl[] => qmatmul(ctx, true);

const DQ_WG = 256;

/** DynamicQuantizeLinear: min/max partials, scale and zero point, then quantize. */
export function dynamicQuantizeKernel(ctx: KernelContext): KernelImpl[] {
  const x = ctx.inputs[0];
  if (!x) return ctx.fail('DynamicQuantizeLinear needs x');
  if (x.gpu !== 'f32') return ctx.unsupported(`DynamicQuantizeLinear of ${x.dtype}`);
  const n = size(x.dims);
  const per = Math.max(DQ_WG * 16, Math.ceil(n / 4096 / DQ_WG) * DQ_WG);
  const parts = Math.max(1, Math.ceil(n / per));
  const params = DYN_QUANT.pack({ count: n, partials: parts, perPartial: per });
  return [{
    name: 'dynamic_quantize',
    scratch: [Math.max(2, 2 * parts) * 4],
    dispatches: [
      { shader: 'nn/dyn_quant', defines: { STAGE: 1 }, params, workgroup: [DQ_WG, 1, 1], groups: [parts, 1, 1], bindings: [{ input: 0 }, { scratch: 0 }] },
      { shader: 'nn/dyn_quant', defines: { STAGE: 2 }, params, workgroup: [DQ_WG, 1, 1], groups: [1, 1, 1], bindings: [{ scratch: 0 }, { output: 1 }, { output: 2 }] },
      { shader: 'nn/dyn_quant', defines: { STAGE: 3 }, params, workgroup: [DQ_WG, 1, 1], groups: grid1d(n, DQ_WG, ctx.caps), bindings: [{ input: 0 }, { scratch: 0 }, { output: 0 }] },
    ],
  }];
}

/** Parameter layout of a QuantizeLinear / DequantizeLinear scale or zero point: [outer, block, inner] strides. */
function qdqStrides(ctx: KernelContext, xd: readonly number[], pd: readonly number[], axis: number, block: number, name: string): number[] {
  const rank = xd.length;
  if (block > 0) {
    if (pd.length !== rank) return ctx.fail(`blocked ${name} must have rank ${rank}, got [${pd.join(',')}]`);
    for (let k = 0; k < rank; k++) {
      const want = k === axis ? Math.ceil(xd[k] / block) : xd[k];
      if (pd[k] !== want) return ctx.fail(`blocked ${name} has dims [${pd.join(',')}]; axis ${k} must be ${want}`);
    }
    const inner = size(xd.slice(axis + 1));
    return [pd[axis] * inner, inner, 1];
  }
  if (size(pd) === 1 && pd.length <= 1) return [0, 0, 0];
  if (pd.length !== 1 || pd[0] !== xd[axis]) return ctx.fail(`${name} [${pd.join(',')}] is neither per tensor nor per axis ${axis}`);
  return [0, 1, 0];
}

function qdq(ctx: KernelContext, dequant: boolean): KernelImpl[] {
  const [x, s, z] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!x || !s) return ctx.fail('missing x or scale');
  if (s.gpu !== 'f32') return ctx.unsupported(`scale of ${s.dtype}`);
  const rank = x.dims.length;
  const a = ctx.opset >= 13 ? ctx.attrs.int('axis', 1) : 1;
  const block = ctx.opset >= 21 ? ctx.attrs.int('block_size', 0) : 0;
  const scalarOnly = size(s.dims) === 1 && s.dims.length <= 1 && block === 0;
  const axis = rank === 0 || scalarOnly ? 0 : a < 0 ? a + rank : a;
  if (!scalarOnly && (axis < 0 || axis >= rank)) return ctx.fail(`axis ${a} is out of range for rank ${rank}`);
  const ss = qdqStrides(ctx, x.dims, s.dims, axis, block, 'scale');
  if (z) {
    const zs = qdqStrides(ctx, x.dims, z.dims, axis, block, 'zero point');
    if (zs.join(',') !== ss.join(',')) return ctx.unsupported('scale and zero point with different layouts');
    if ((z.gpu !== 'i32' && !isPacked(z.gpu)) || isFloat(z.dtype)) return ctx.unsupported(`zero point of ${z.dtype} has no GPU kernel`);
  }
  const D = rank ? x.dims[axis] : 1;
  const inner = rank ? size(x.dims.slice(axis + 1)) : 1;
  const n = size(x.dims);
  let lo = 0, hi = 0;
  const defines: Record<string, string | number> = {};
  if (dequant) {
    if (y.gpu !== 'f32') return ctx.unsupported(`dequantizing to ${y.dtype}`);
    if ((x.gpu !== 'i32' && !isPacked(x.gpu) && !isByte(x.gpu)) || isFloat(x.dtype)) return ctx.unsupported(`dequantizing ${x.dtype} has no GPU kernel`);
    defines.DEQUANT = 1;
  } else {
    [lo, hi] = outRange(ctx);
    defines.XT = x.gpu === 'f32' ? 'float' : 'int';
  }
  if (z && isByte(z.gpu)) return ctx.unsupported('a zero point held as bytes has no GPU kernel');
  if (!dequant && isByte(x.gpu)) return ctx.unsupported(`quantizing ${x.dtype} held as bytes has no GPU kernel`);
  byteStorage(defines, 'Q_ST', dequant ? x : y);
  // int4/uint4/int2/uint2: x and zero point (dequantize) or y and zero point (quantize) are packed codes
  const q = dequant ? x : y;
  let words = n;
  if (isPacked(q.gpu)) {
    if (isFloat(q.dtype)) return ctx.unsupported(`${q.dtype} has no blocked GPU kernel`);
    defines.QBITS = PACKED[q.gpu].bits;
    defines.QSIGNED = PACKED[q.gpu].signed ? 1 : 0;
    if (!dequant) words = Math.ceil((n * PACKED[q.gpu].bits) / 32);
  }
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }];
  if (z) { defines.HAS_ZP = 1; bindings.push({ input: 2 }); }
  bindings.push({ output: 0 });
  const params = QDQ.pack({ count: n, D, inner, block: Math.max(1, block), strideOuter: ss[0], strideBlock: ss[1], strideInner: ss[2], lo, hi });
  return [{
    name: dequant ? 'dequantize_blocked' : 'quantize_blocked',
    dispatches: [{ shader: 'nn/qdq', defines, params, workgroup: [64, 1, 1], groups: grid1d(words, 64, ctx.caps), bindings }],
  }];
}

export const quantizeGeneralKernel = (ctx: KernelContext): KernelImpl[] => qdq(ctx, false);
export const dequantizeGeneralKernel = (ctx: KernelContext): KernelImpl[] => qdq(ctx, true);
