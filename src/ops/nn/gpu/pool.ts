/**
 * GPU kernels of the pools: MaxPool (with the optional Indices output), AveragePool, LpPool
 * (shaders/nn/pool.comp, one invocation per output) and the global pools
 * (shaders/nn/global_pool.comp, one workgroup per plane).
 */
import { BindingRef, KernelContext, KernelImpl, f32bits, grid1d, withF16 } from '../../../kernel/contract';
import { isFloat } from '../../../ir/dtype';
import { ShapeContext } from '../../types';
import { readWindow, windowOutput } from '../../util/nn-conv';

function to3(v: readonly number[], fill: number): number[] {
  return [...new Array<number>(3 - v.length).fill(fill), ...v];
}

const POOL_CODE = { MaxPool: 0, AveragePool: 1, LpPool: 2 } as const;

/** The kernel() of MaxPool, AveragePool or LpPool. */
export function poolKernel(op: keyof typeof POOL_CODE): (ctx: KernelContext) => KernelImpl[] {
  return (ctx) => {
    const x = ctx.inputs[0];
    const y = ctx.outputs[0];
    if (!x) return ctx.fail('missing input X');
    const nsp = x.dims.length - 2;
    if (nsp < 1 || nsp > 3) return ctx.unsupported(`${op} over ${nsp} spatial axes has no GPU kernel (1-3 are supported)`);
    const int = x.gpu === 'i32';
    if (int && op !== 'MaxPool') return ctx.unsupported(`${op} on ${x.dtype}`);
    const sctx = ctx as unknown as ShapeContext;
    const win = readWindow(sctx, nsp);
    const ceil = ctx.attrs.int('ceil_mode', 0) !== 0;
    const { padsBegin, padsEnd } = windowOutput(sctx, x.dims.slice(2), win, ceil);
    const total = y.dims.reduce((a, b) => a * b, 1);
    const params = [total, ...to3(x.dims.slice(2), 1), ...to3(y.dims.slice(2), 1), ...to3(win.kernel, 1), ...to3(win.strides, 1), ...to3(padsBegin, 0), ...to3(win.dilations, 1)];
    const defines: Record<string, string | number> = { POOL: POOL_CODE[op] };
    if (int) { defines.T = 'int'; defines.T_INT = 1; }
    const bindings: BindingRef[] = [{ input: 0 }, { output: 0 }];
    if (op === 'AveragePool' && ctx.attrs.int('count_include_pad', 0) !== 0) {
      defines.COUNT_PAD = 1;
      params.push(...to3(padsEnd, 0));
    }
    if (op === 'LpPool') params.push(f32bits(ctx.opset >= 11 ? ctx.attrs.int('p', 2) : ctx.attrs.float('p', 2)));
    if (op === 'MaxPool' && ctx.outputs.length > 1 && ctx.node.outputs[1]) {
      defines.HAS_INDICES = 1;
      if (ctx.attrs.int('storage_order', 0) === 1) defines.STORAGE_COL = 1;
      bindings.push({ output: 1 });
    }
    return withF16([{ // f16 storage: pool.comp's TS buffers; sums in FP32
      name: `${op.toLowerCase()}_direct`,
      dispatches: [{ shader: 'nn/pool', defines, params, workgroup: [64, 1, 1], groups: grid1d(total, 64, ctx.caps), bindings }],
    }], ctx);
  };
}

const GLOBAL_CODE = { GlobalMaxPool: 0, GlobalAveragePool: 1, GlobalLpPool: 2 } as const;
const WG = 128;

/** The kernel() of GlobalMaxPool, GlobalAveragePool or GlobalLpPool. */
export function globalPoolKernel(op: keyof typeof GLOBAL_CODE): (ctx: KernelContext) => KernelImpl[] {
  return (ctx) => {
    const x = ctx.inputs[0];
    if (!x) return ctx.fail('missing input X');
    if (!isFloat(x.dtype)) return ctx.unsupported(`${op} on ${x.dtype}`);
    const planes = x.dims[0] * x.dims[1];
    const L = x.dims.slice(2).reduce((a, b) => a * b, 1);
    if (L === 0) return ctx.unsupported(`${op} over an empty spatial extent`);
    const params = [planes, L];
    if (op === 'GlobalLpPool') params.push(f32bits(ctx.opset >= 11 ? ctx.attrs.int('p', 2) : ctx.attrs.float('p', 2)));
    return withF16([{ // f16 storage: global_pool.comp's FT buffers; sums in FP32
      name: `${op.toLowerCase()}_rows`,
      dispatches: [{
        shader: 'nn/global_pool', defines: { POOL: GLOBAL_CODE[op], NN_WG: WG }, params,
        workgroup: [WG, 1, 1], groups: grid1d(planes * WG, WG, ctx.caps), bindings: [{ input: 0 }, { output: 0 }],
      }],
    }], ctx);
  };
}
