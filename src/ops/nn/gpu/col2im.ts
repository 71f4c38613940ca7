/** GPU kernel of Col2Im (shaders/nn/col2im.comp): a gather per image element, block_shape read at run time. */
import { grid1d, KernelContext, KernelImpl, withF16 } from '../../../kernel/contract';
import { MAX_PARAM_WORDS, paramLayout } from '../../../kernel/params';
import { isFloat } from '../../../ir/dtype';

/** shaders/nn/col2im.comp: outputs, channels, block size, blocks, image axes, per axis image dim, stride, dilation, pads. */
const COL2IM = paramLayout('col2im', {
  n: 'u32', C: 'u32', K: 'u32', L: 'u32', r: 'u32', axes: { each: { img: 'u32', stride: 'u32', dil: 'u32', padBegin: 'u32', padEnd: 'u32' } },
}, 'Col2Im, one invocation per image element (src/ops/nn/gpu/col2im.ts).');

export function col2imKernel(ctx: KernelContext): KernelImpl[] {
  const [I, imgT, blkT] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!I || !imgT || !blkT) return ctx.fail('input, image_shape and block_shape are required');
  if (!isFloat(I.dtype)) return ctx.unsupported(`Col2Im on ${I.dtype}`);
  if (I.dims.length !== 3) return ctx.fail(`input must be [N, C*prod(block), L], got [${I.dims.join(',')}]`);
  const r = y.dims.length - 2;
  if (r < 1 || blkT.dims.reduce((a, b) => a * b, 1) !== r) return ctx.fail(`block_shape must have ${r} values (the output's image axes)`);
  if (5 + 5 * r > MAX_PARAM_WORDS) return ctx.unsupported(`Col2Im over ${r} image axes has no GPU kernel`);
  const [N, CK, L] = I.dims;
  const C = y.dims[1];
  if (y.dims[0] !== N || C < 1 || CK % C !== 0) return ctx.fail(`output [${y.dims.join(',')}] does not fit input [${I.dims.join(',')}]`);
  const img = y.dims.slice(2);
  if (imgT.constant && imgT.constant.toNumbers().some((d, a) => d !== img[a])) return ctx.fail(`image_shape differs from the output's [${img.join(',')}]`);
  if (blkT.gpu !== 'i32') return ctx.fail(`block_shape must be integers, got ${blkT.dtype}`);
  const ones = new Array<number>(r).fill(1);
  const strides = ctx.attrs.ints('strides', ones), dil = ctx.attrs.ints('dilations', ones), pads = ctx.attrs.ints('pads', new Array<number>(2 * r).fill(0));
  if (strides.length !== r || dil.length !== r || pads.length !== 2 * r) return ctx.fail(`strides/dilations need ${r} values and pads ${2 * r}`);
  if (strides.some((s) => s < 1) || dil.some((d) => d < 1) || pads.some((p) => p < 0)) return ctx.fail('strides and dilations must be positive, pads non-negative');
  const K = CK / C;
  const n = y.dims.reduce((a, b) => a * b, 1);
  const params = COL2IM.pack({ n, C, K, L, r, axes: img.map((d, a) => ({ img: d, stride: strides[a], dil: dil[a], padBegin: pads[a], padEnd: pads[a + r] })) });
  return withF16([{
    name: 'col2im_gather',
    dispatches: [{ shader: 'nn/col2im', defines: { RANK: r }, params, workgroup: [64, 1, 1], groups: grid1d(n, 64, ctx.caps), bindings: [{ input: 0 }, { input: 2 }, { output: 0 }] }],
  }], ctx);
}
