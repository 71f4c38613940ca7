/** GPU kernel of DeformConv, 2-D (shaders/nn/deform_conv.comp): one invocation per output element. */
import { BindingRef, grid1d, KernelContext, KernelImpl, withF16 } from '../../../kernel/contract';
import { paramLayout } from '../../../kernel/params';
import { isFloat } from '../../../ir/dtype';
import { ShapeContext } from '../../types';
import { readWindow, windowOutput } from '../../util/nn-conv';

/** shaders/nn/deform_conv.comp: outputs, input and weight dims, output dims, offset groups, groups, strides, begin pads, dilations. */
const DEFORM_CONV = paramLayout('deform_conv', {
  n: 'u32', C: 'u32', H: 'u32', W: 'u32', M: 'u32', Cg: 'u32', kH: 'u32', kW: 'u32', oH: 'u32', oW: 'u32', og: 'u32', group: 'u32',
  strideH: 'u32', strideW: 'u32', padH: 'u32', padW: 'u32', dilH: 'u32', dilW: 'u32',
}, 'DeformConv (2-D), one invocation per output element (src/ops/nn/gpu/deform.ts).');

export function deformConvKernel(ctx: KernelContext): KernelImpl[] {
  const [X, Wt, O, B, MK] = ctx.inputs;
  if (!X || !Wt || !O) return ctx.fail('X, W and offset are required');
  if (!isFloat(X.dtype)) return ctx.fail(`X must be floating-point, got ${X.dtype}`);
  if (X.dims.length !== 4 || Wt.dims.length !== 4) return ctx.unsupported(`only 2-D DeformConv (4-D X and W) has a GPU kernel, got X [${X.dims.join(',')}]`);
  const group = ctx.attrs.int('group', 1), og = ctx.attrs.int('offset_group', 1);
  const [N, C, H, W] = X.dims;
  const [M, Cg, kH, kW] = Wt.dims;
  if (group < 1 || C !== Cg * group || M % group !== 0) return ctx.fail(`channels do not match groups: X has ${C}, W [${Wt.dims.join(',')}], group ${group}`);
  if (og < 1 || C % og !== 0) return ctx.fail(`offset_group ${og} must divide the ${C} channels`);
  const sctx = ctx as unknown as ShapeContext; // the window helpers read attrs and fail only
  const win = readWindow(sctx, 2, [kH, kW]);
  if (win.autoPad !== 'NOTSET') return ctx.fail('DeformConv has no auto_pad');
  const w = windowOutput(sctx, [H, W], win);
  const [oH, oW] = w.out as number[];
  const padsBegin = w.padsBegin;
  const K = kH * kW;
  if (O.dims.length !== 4 || O.dims[0] !== N || O.dims[1] !== og * K * 2 || O.dims[2] !== oH || O.dims[3] !== oW) return ctx.fail(`offset must be [${N}, ${og * K * 2}, ${oH}, ${oW}], got [${O.dims.join(',')}]`);
  if (MK && (MK.dims.length !== 4 || MK.dims[1] !== og * K || MK.dims[2] !== oH || MK.dims[3] !== oW)) return ctx.fail(`mask must be [${N}, ${og * K}, ${oH}, ${oW}], got [${MK.dims.join(',')}]`);
  if (B && B.dims.reduce((a, b) => a * b, 1) !== M) return ctx.fail(`B must have ${M} elements`);
  const n = N * M * oH * oW;
  const defines: Record<string, number> = {};
  if (B) defines.HAS_BIAS = 1;
  if (MK) defines.HAS_MASK = 1;
  const any: BindingRef = { input: 0 };
  const params = DEFORM_CONV.pack({
    n, C, H, W, M, Cg, kH, kW, oH, oW, og, group,
    strideH: win.strides[0], strideW: win.strides[1], padH: padsBegin[0], padW: padsBegin[1], dilH: win.dilations[0], dilW: win.dilations[1],
  });
  return withF16([{
    name: 'deform_conv_direct',
    dispatches: [{ shader: 'nn/deform_conv', defines, params, workgroup: [64, 1, 1], groups: grid1d(n, 64, ctx.caps), bindings: [{ input: 0 }, { input: 1 }, { input: 2 }, B ? { input: 3 } : any, MK ? { input: 4 } : any, { output: 0 }] }],
  }], ctx);
}
