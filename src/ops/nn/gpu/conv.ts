/**
 * GPU kernels of Conv and ConvTranspose. Spatial ranks 1-3 run as 3-D (unit leading axes).
 * Conv has two candidates: an implicit GEMM with shared-memory tiles (shaders/nn/conv_gemm.comp,
 * also the 1x1 path: its im2col reads reduce to a strided copy) and a direct kernel, one
 * invocation per output (shaders/nn/conv_direct.comp), which goes first for depthwise and other
 * thin group convolutions where a 64-row GEMM tile would mostly idle.
 */
import { BindingRef, DispatchDesc, KernelContext, KernelImpl, grid1d, withF16 } from '../../../kernel/contract';
import { paramLayout, ParamValues } from '../../../kernel/params';
import { isFloat } from '../../../ir/dtype';
import { ShapeContext } from '../../types';
import { readWindow, windowOutput } from '../../util/nn-conv';
import { transposeGeometry } from '../conv-geometry';
import { ACT_FIELDS, activationFields, readActivation } from './epilogue';

/** Pad a per-axis list to 3 axes with a leading fill. */
function to3(v: readonly number[], fill: number): number[] {
  return [...new Array<number>(3 - v.length).fill(fill), ...v];
}

/**
 * The geometry params of the convolution shaders (conv_*, conv_transpose, qconv), spatial axes as
 * 3-D (D, H, W): input channels and dims, output channels and dims, kernel, strides, begin pads,
 * dilations, channels per group of the input (Cg) and output (Mg).
 */
export const CONV_GEOMETRY = {
  C: 'u32', ID: 'u32', IH: 'u32', IW: 'u32', M: 'u32', OD: 'u32', OH: 'u32', OW: 'u32',
  KD: 'u32', KH: 'u32', KW: 'u32', SD: 'u32', SH: 'u32', SW: 'u32', PD: 'i32', PH: 'i32', PW: 'i32',
  DD: 'u32', DH: 'u32', DW: 'u32', Cg: 'u32', Mg: 'u32',
} as const;

type Dhw<P extends string> = { [K in `${P}D` | `${P}H` | `${P}W`]: number };
/** Three per-axis values as fields `<p>D`, `<p>H`, `<p>W`. */
export function dhw<P extends string>(p: P, v: readonly number[]): Dhw<P> {
  return { [`${p}D`]: v[0], [`${p}H`]: v[1], [`${p}W`]: v[2] } as Dhw<P>;
}

/** Conv: the geometry, the batch (NIMG) and the epilogue's activation. */
const CONV_FIELDS = { ...CONV_GEOMETRY, NIMG: 'u32', ...ACT_FIELDS } as const;
/** shaders/nn/conv_direct.comp: one invocation per output, `total` outputs. */
const CONV_DIRECT = paramLayout('conv_direct', { ...CONV_FIELDS, total: 'u32' }, 'Conv, one invocation per output (src/ops/nn/gpu/conv.ts).');
/** shaders/nn/conv_gemm.comp; SPLITK adds the K chunk. */
const CONV_GEMM = paramLayout('conv_gemm', { ...CONV_FIELDS, chunk: 'u32?' }, 'Conv as an implicit GEMM; chunk: the K chunk of a SPLITK pass (src/ops/nn/gpu/conv.ts).');
/** shaders/nn/conv_splitk.comp: sums `splits` partial products (chunk is conv_gemm's, unused). */
const CONV_SPLITK = paramLayout('conv_splitk', { ...CONV_FIELDS, chunk: 'u32', splits: 'u32', total: 'u32' }, 'Conv split-K, the sum of the partial products (src/ops/nn/gpu/conv.ts).');
/** shaders/nn/conv_transpose.comp. */
const CONV_TRANSPOSE = paramLayout('conv_transpose', { ...CONV_GEOMETRY, total: 'u32', ...ACT_FIELDS }, 'ConvTranspose, gathered (src/ops/nn/gpu/conv.ts).');

const TILE = { BM: 64, BN: 64, TM: 4, TN: 4, BK: 16 };
/**
 * Split-K goes first when the tile grid has fewer workgroups than this (a large GPU has ~100+
 * compute units and wants a few workgroups each) and K is long enough to share: at batch 1 the
 * late ResNet layers (7x7 and 14x14 maps) otherwise run on 8-64 workgroups.
 */
const SPLITK_MIN_GROUPS = 128;
const SPLITK_TARGET_GROUPS = 256;
/** Shortest K chunk worth a split (8 tile steps). */
const SPLITK_MIN_CHUNK = 128;

/** Conv on the GPU: float X and W, optional bias (2) and residual (3), fused activation. */
export function convKernel(ctx: KernelContext): KernelImpl[] {
  const [x, w, b, r] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!x || !w) return ctx.fail('Conv needs X and W');
  if (!isFloat(x.dtype) || x.gpu === 'i32') return ctx.unsupported(`Conv on ${x.dtype} has no GPU kernel`);
  const nsp = x.dims.length - 2;
  if (nsp < 1 || nsp > 3) return ctx.unsupported(`Conv with ${nsp} spatial axes has no GPU kernel (1-3 are supported)`);
  const sctx = ctx as unknown as ShapeContext;
  const win = readWindow(sctx, nsp, w.dims.slice(2));
  const { padsBegin } = windowOutput(sctx, x.dims.slice(2), win);
  const group = ctx.attrs.int('group', 1);
  const [N, C] = x.dims;
  const M = w.dims[0];
  const Cg = w.dims[1];
  if (group < 1 || C !== Cg * group || M % group !== 0) return ctx.fail(`X has ${C} channels, W [${w.dims.join(',')}] with group ${group} does not match`);
  const Mg = M / group;
  const act = readActivation(ctx.attrs, ctx.fail);
  if (r && r.dims.join(',') !== y.dims.join(',')) return ctx.unsupported(`the residual input [${r.dims.join(',')}] must have the output's shape [${y.dims.join(',')}]`);
  const inSp = to3(x.dims.slice(2), 1), outSp = to3(y.dims.slice(2), 1);
  const k = to3(win.kernel, 1), s = to3(win.strides, 1), p = to3(padsBegin, 0), d = to3(win.dilations, 1);
  const base: ParamValues<typeof CONV_FIELDS> = {
    C, ...dhw('I', inSp), M, ...dhw('O', outSp), ...dhw('K', k), ...dhw('S', s), ...dhw('P', p), ...dhw('D', d), Cg, Mg, NIMG: N, ...activationFields(act),
  };
  const defines: Record<string, number> = {};
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }];
  if (b) { defines.HAS_BIAS = 1; bindings.push({ input: 2 }); }
  if (r) { defines.HAS_RES = 1; bindings.push({ input: 3 }); }
  bindings.push({ output: 0 });
  const total = y.dims.reduce((a, c) => a * c, 1);
  const outSize = outSp[0] * outSp[1] * outSp[2];
  const kSize = k[0] * k[1] * k[2];
  const direct: KernelImpl = {
    name: 'conv_direct',
    dispatches: [{ shader: 'nn/conv_direct', defines, params: CONV_DIRECT.pack({ ...base, total }), workgroup: [64, 1, 1], groups: grid1d(total, 64, ctx.caps), bindings }],
  };
  const impls: KernelImpl[] = [direct];
  const gx = Math.ceil((N * outSize) / TILE.BN), gy = Math.ceil(Mg / TILE.BM);
  if (gx <= ctx.caps.maxGroupsX && gy <= ctx.caps.maxGroupsY && group <= 65535) {
    const tiled: DispatchDesc = {
      shader: 'nn/conv_gemm', defines: { ...defines, GEMM_TILED: 1 }, params: CONV_GEMM.pack(base),
      workgroup: [TILE.BN / TILE.TN, TILE.BM / TILE.TM, 1], groups: [gx, gy, group], bindings,
    };
    const gemm: KernelImpl = { name: 'conv_implicit_gemm', dispatches: [tiled] };
    // thin convolutions (depthwise: Mg = 1) leave most of a 64-row tile idle: direct first there
    if (Mg >= 16 && Cg * kSize >= 8) impls.unshift(gemm);
    else impls.push(gemm);
    const K = Cg * kSize, wgs = gx * gy * group;
    if (K > TILE.BK) {
      const split = splitKImpl(tiled, { K, wgs, group, M, ntot: N * outSize, total, base, defines, hasBias: !!b, hasRes: !!r, caps: ctx.caps });
      if (split && wgs < SPLITK_MIN_GROUPS && K >= 2 * SPLITK_MIN_CHUNK && Mg >= 16) impls.unshift(split);
      else if (split) impls.push(split);
    }
  }
  return withF16(impls, ctx); // f16 storage: both shaders declare their buffers with FT
}

/**
 * The split-K form of the implicit GEMM: pass 1 writes each K chunk's partial products to a
 * scratch buffer (more workgroups: the grid gains a factor `splits` in z), pass 2
 * (nn/conv_splitk) sums them in a fixed order and applies the epilogue.
 */
function splitKImpl(tiled: DispatchDesc, s: {
  K: number; wgs: number; group: number; M: number; ntot: number; total: number; base: ParamValues<typeof CONV_FIELDS>;
  defines: Record<string, number>; hasBias: boolean; hasRes: boolean; caps: KernelContext['caps'];
}): KernelImpl | undefined {
  const want = Math.ceil(SPLITK_TARGET_GROUPS / s.wgs);
  const splits0 = Math.max(2, Math.min(want, Math.floor(s.K / SPLITK_MIN_CHUNK), Math.ceil(s.K / TILE.BK)));
  const chunk = Math.ceil(Math.ceil(s.K / splits0) / TILE.BK) * TILE.BK;
  const splits = Math.ceil(s.K / chunk);
  if (splits < 2 || s.group * splits > 65535) return undefined;
  const part = splits * s.M * s.ntot * 4;
  const reduce: BindingRef[] = [{ scratch: 0 }];
  if (s.hasBias) reduce.push({ input: 2 });
  if (s.hasRes) reduce.push({ input: 3 });
  reduce.push({ output: 0 });
  return {
    name: 'conv_implicit_gemm_splitk',
    scratch: [part],
    dispatches: [
      { ...tiled, defines: { GEMM_TILED: 1, SPLITK: 1 }, params: CONV_GEMM.pack({ ...s.base, chunk }), groups: [tiled.groups[0], tiled.groups[1], s.group * splits], bindings: [{ input: 0 }, { input: 1 }, { scratch: 0 }] },
      { shader: 'nn/conv_splitk', defines: s.defines, params: CONV_SPLITK.pack({ ...s.base, chunk, splits, total: s.total }), workgroup: [64, 1, 1], groups: grid1d(s.total, 64, s.caps), bindings: reduce },
    ],
  };
}

/** ConvTranspose on the GPU (gathered, one invocation per output), with a fused activation. */
export function convTransposeKernel(ctx: KernelContext): KernelImpl[] {
  const [x, w, b] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!x || !w) return ctx.fail('ConvTranspose needs X and W');
  if (!isFloat(x.dtype) || x.gpu !== 'f32') return ctx.unsupported(`ConvTranspose on ${x.dtype} has no GPU kernel`);
  const nsp = x.dims.length - 2;
  if (nsp < 1 || nsp > 3) return ctx.unsupported(`ConvTranspose with ${nsp} spatial axes has no GPU kernel (1-3 are supported)`);
  const group = ctx.attrs.int('group', 1);
  const [, C] = x.dims;
  if (group < 1 || C % group !== 0 || w.dims[0] !== C) return ctx.fail(`W [${w.dims.join(',')}] does not match X's ${C} channels in ${group} groups`);
  const Cg = C / group, Mg = w.dims[1], M = Mg * group;
  const kernel = ctx.attrs.ints('kernel_shape', w.dims.slice(2));
  const geo = transposeGeometry(ctx as unknown as ShapeContext, x.dims.slice(2), kernel);
  const act = readActivation(ctx.attrs, ctx.fail);
  const total = y.dims.reduce((a, c) => a * c, 1);
  const params = CONV_TRANSPOSE.pack({
    C, ...dhw('I', to3(x.dims.slice(2), 1)), M, ...dhw('O', to3(y.dims.slice(2), 1)), ...dhw('K', to3(kernel, 1)), ...dhw('S', to3(geo.strides, 1)),
    ...dhw('P', to3(geo.padsBegin, 0)), ...dhw('D', to3(geo.dilations, 1)), Cg, Mg, total, ...activationFields(act),
  });
  const defines: Record<string, number> = {};
  const bindings: BindingRef[] = [{ input: 0 }, { input: 1 }];
  if (b) { defines.HAS_BIAS = 1; bindings.push({ input: 2 }); }
  bindings.push({ output: 0 });
  return [{
    name: 'convtranspose_gather',
    dispatches: [{ shader: 'nn/conv_transpose', defines, params, workgroup: [64, 1, 1], groups: grid1d(total, 64, ctx.caps), bindings }],
  }];
}
