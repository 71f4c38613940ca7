/**
 * GPU kernels of the pools: MaxPool (with the optional Indices output), AveragePool, LpPool
 * (shaders/nn/pool.comp, one invocation per output) and the global pools
 * (shaders/nn/global_pool.comp, one workgroup per plane).
 */
import { BindingRef, KernelContext, KernelImpl, grid1d, withF16 } from '../../../kernel/contract';
import { glslEnum, paramLayout, ParamValues } from '../../../kernel/params';
import { isFloat } from '../../../ir/dtype';
import { glslType, isByte } from '../../../kernel/storage';
import { ShapeContext } from '../../types';
import { readWindow, windowOutput } from '../../util/nn-conv';
import { dhw } from './conv';

function to3(v: readonly number[], fill: number): number[] {
  return [...new Array<number>(3 - v.length).fill(fill), ...v];
}

/** pool.comp's and global_pool.comp's POOL. */
const POOL_OP = glslEnum('POOL_OP', { Max: 0, Average: 1, Lp: 2 }, 'int', "pool.comp's and global_pool.comp's POOL define, src/ops/nn/gpu/pool.ts");
const POOL_CODE = { MaxPool: POOL_OP.Max, AveragePool: POOL_OP.Average, LpPool: POOL_OP.Lp } as const;

/** Pool geometry as 3-D: outputs, input and output dims, kernel, strides, begin pads, dilations. */
const POOL_FIELDS = {
  total: 'u32', ID: 'u32', IH: 'u32', IW: 'u32', OD: 'u32', OH: 'u32', OW: 'u32', KD: 'u32', KH: 'u32', KW: 'u32',
  SD: 'u32', SH: 'u32', SW: 'u32', PD: 'i32', PH: 'i32', PW: 'i32', DD: 'u32', DH: 'u32', DW: 'u32',
} as const;
/** shaders/nn/pool.comp, max and average; COUNT_PAD adds the end pads. */
const POOL = paramLayout('pool', { ...POOL_FIELDS, PED: 'i32?', PEH: 'i32?', PEW: 'i32?' }, 'MaxPool/AveragePool, one invocation per output (src/ops/nn/gpu/pool.ts).');
/** shaders/nn/pool.comp, LpPool: the exponent p. */
const POOL_LP = paramLayout('pool_lp', { ...POOL_FIELDS, p: 'f32' }, 'LpPool, one invocation per output (src/ops/nn/gpu/pool.ts).');
/** shaders/nn/global_pool.comp: `planes` planes of L elements; GlobalLpPool: p. */
const GLOBAL_POOL = paramLayout('global_pool', { planes: 'u32', L: 'u32', p: 'f32?' }, 'Global pools, a workgroup per plane (src/ops/nn/gpu/pool.ts).');

/** The kernel() of MaxPool, AveragePool or LpPool. */
export function poolKernel(op: keyof typeof POOL_CODE): (ctx: KernelContext) => KernelImpl[] {
  return (ctx) => {
    const x = ctx.inputs[0];
    const y = ctx.outputs[0];
    if (!x) return ctx.fail('missing input X');
    const nsp = x.dims.length - 2;
    if (nsp < 1 || nsp > 3) return ctx.unsupported(`${op} over ${nsp} spatial axes has no GPU kernel (1-3 are supported)`);
    const int = x.gpu === 'i32' || isByte(x.gpu);
    if ((isByte(x.gpu) || isByte(y.gpu)) && op !== 'MaxPool') return ctx.unsupported(`${op} of ${x.dtype} held as bytes`);
    if (int && op !== 'MaxPool') return ctx.unsupported(`${op} on ${x.dtype}`);
    const sctx = ctx as unknown as ShapeContext;
    const win = readWindow(sctx, nsp);
    const ceil = ctx.attrs.int('ceil_mode', 0) !== 0;
    const { padsBegin, padsEnd } = windowOutput(sctx, x.dims.slice(2), win, ceil);
    const total = y.dims.reduce((a, b) => a * b, 1);
    const geo: ParamValues<typeof POOL_FIELDS> = {
      total, ...dhw('I', to3(x.dims.slice(2), 1)), ...dhw('O', to3(y.dims.slice(2), 1)), ...dhw('K', to3(win.kernel, 1)),
      ...dhw('S', to3(win.strides, 1)), ...dhw('P', to3(padsBegin, 0)), ...dhw('D', to3(win.dilations, 1)),
    };
    let params: number[];
    const defines: Record<string, string | number> = { POOL: POOL_CODE[op] };
    if (int) { defines.T = 'int'; defines.T_INT = 1; }
    if (isByte(x.gpu)) { defines.X_BYTES = glslType(x.gpu); defines.VKRT_BYTES = 1; }
    if (isByte(y.gpu)) { defines.Y_BYTES = glslType(y.gpu); defines.VKRT_BYTES = 1; }
    const bindings: BindingRef[] = [{ input: 0 }, { output: 0 }];
    if (op === 'AveragePool' && ctx.attrs.int('count_include_pad', 0) !== 0) {
      defines.COUNT_PAD = 1;
      params = POOL.pack({ ...geo, ...dhw('PE', to3(padsEnd, 0)) });
    } else if (op === 'LpPool') params = POOL_LP.pack({ ...geo, p: ctx.opset >= 11 ? ctx.attrs.int('p', 2) : ctx.attrs.float('p', 2) });
    else params = POOL.pack(geo);
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

const GLOBAL_CODE = { GlobalMaxPool: POOL_OP.Max, GlobalAveragePool: POOL_OP.Average, GlobalLpPool: POOL_OP.Lp } as const;
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
    const params = GLOBAL_POOL.pack(op === 'GlobalLpPool' ? { planes, L, p: ctx.opset >= 11 ? ctx.attrs.int('p', 2) : ctx.attrs.float('p', 2) } : { planes, L });
    return withF16([{ // f16 storage: global_pool.comp's FT buffers; sums in FP32
      name: `${op.toLowerCase()}_rows`,
      dispatches: [{
        shader: 'nn/global_pool', defines: { POOL: GLOBAL_CODE[op], NN_WG: WG }, params,
        workgroup: [WG, 1, 1], groups: grid1d(planes * WG, WG, ctx.caps), bindings: [{ input: 0 }, { output: 0 }],
      }],
    }], ctx);
  };
}

/** shaders/nn/max_unpool.comp: elements of the pass, rank, per axis the default unpooled dim and the output's. */
const MAX_UNPOOL = paramLayout('max_unpool', { n: 'u32', rank: 'u32', axes: { each: { inf: 'u32', out: 'u32' } } },
  'MaxUnpool: a zero fill, then a scatter per input element (src/ops/nn/gpu/pool.ts).');

export function maxUnpoolKernel(ctx: KernelContext): KernelImpl[] {
  const [X, I] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!X || !I) return ctx.fail('X and I are required');
  if (X.gpu === 'i32') return ctx.unsupported(`MaxUnpool on ${X.dtype}`);
  if (I.gpu !== 'i32') return ctx.fail(`I must be integers, got ${I.dtype}`);
  const rank = X.dims.length;
  if (rank < 3) return ctx.fail(`X must have rank >= 3, got [${X.dims.join(',')}]`);
  if (I.dims.reduce((a, b) => a * b, 1) !== X.dims.reduce((a, b) => a * b, 1)) return ctx.fail('I and X must have the same number of elements');
  if (y.dims.length !== rank) return ctx.fail(`output_shape must have ${rank} values`);
  const n = rank - 2;
  const win = readWindow(ctx as unknown as ShapeContext, n);
  const inferred = [X.dims[0], X.dims[1], ...X.dims.slice(2).map((d, i) => (d - 1) * win.strides[i] + win.kernel[i] - win.pads[i] - win.pads[i + n])];
  if (inferred.some((d) => d < 1)) return ctx.fail(`the unpooled shape [${inferred.join(',')}] is empty`);
  if (2 + 2 * rank > 32) return ctx.unsupported(`MaxUnpool of rank ${rank}`);
  const axes = inferred.map((inf, a) => ({ inf, out: y.dims[a] }));
  const nOut = y.dims.reduce((a, b) => a * b, 1), nIn = X.dims.reduce((a, b) => a * b, 1);
  const bindings = [{ input: 0 }, { input: 1 }, { output: 0 }];
  return withF16([{
    name: 'max_unpool_scatter',
    dispatches: [
      { shader: 'nn/max_unpool', defines: { ZERO: 1, RANK: rank }, params: MAX_UNPOOL.pack({ n: nOut, rank, axes }), workgroup: [64, 1, 1], groups: grid1d(nOut, 64, ctx.caps), bindings },
      { shader: 'nn/max_unpool', defines: { RANK: rank }, params: MAX_UNPOOL.pack({ n: nIn, rank, axes }), workgroup: [64, 1, 1], groups: grid1d(nIn, 64, ctx.caps), bindings },
    ],
  }], ctx);
}
