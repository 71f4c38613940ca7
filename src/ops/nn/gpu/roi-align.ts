/** GPU kernel of RoiAlign (shaders/nn/roi_align.comp): one invocation per output element. */
import { grid1d, KernelContext, KernelImpl, withF16 } from '../../../kernel/contract';
import { paramLayout } from '../../../kernel/params';
import { isFloat } from '../../../ir/dtype';

/** shaders/nn/roi_align.comp: outputs, C, H, W, output bins, sampling_ratio, spatial_scale, the half-pixel offset, max mode. */
const ROI_ALIGN = paramLayout('roi_align', {
  n: 'u32', C: 'u32', H: 'u32', W: 'u32', OH: 'u32', OW: 'u32', sampling: 'u32', scale: 'f32', offset: 'f32', isMax: 'u32',
}, 'RoiAlign, one invocation per output element (src/ops/nn/gpu/roi-align.ts).');

export function roiAlignKernel(ctx: KernelContext): KernelImpl[] {
  const [X, R, BI] = ctx.inputs;
  if (!X || !R || !BI) return ctx.fail('X, rois and batch_indices are required');
  if (!isFloat(X.dtype) || !isFloat(R.dtype)) return ctx.fail(`X and rois must be floating-point, got ${X.dtype} and ${R.dtype}`);
  if (BI.gpu !== 'i32') return ctx.fail(`batch_indices must be integers, got ${BI.dtype}`);
  const mode = ctx.attrs.string('mode', 'avg');
  const OH = ctx.attrs.int('output_height', 1), OW = ctx.attrs.int('output_width', 1);
  const sampling = ctx.attrs.int('sampling_ratio', 0);
  const ctm = ctx.opset >= 16 ? ctx.attrs.string('coordinate_transformation_mode', 'half_pixel') : 'output_half_pixel';
  if (mode !== 'avg' && mode !== 'max') return ctx.fail(`mode '${mode}' is not avg or max`);
  if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel') return ctx.fail(`coordinate_transformation_mode '${ctm}' is not half_pixel or output_half_pixel`);
  if (OH < 1 || OW < 1 || sampling < 0) return ctx.fail('output_height/output_width must be positive and sampling_ratio non-negative');
  if (X.dims.length !== 4) return ctx.fail(`X must be 4-D, got [${X.dims.join(',')}]`);
  if (R.dims.length !== 2 || R.dims[1] !== 4) return ctx.fail(`rois must be [num_rois, 4], got [${R.dims.join(',')}]`);
  const [, C, H, W] = X.dims;
  const K = R.dims[0];
  if (BI.dims.reduce((a, b) => a * b, 1) !== K) return ctx.fail(`batch_indices must have ${K} elements`);
  const n = K * C * OH * OW;
  const params = ROI_ALIGN.pack({ n, C, H, W, OH, OW, sampling, scale: ctx.attrs.float('spatial_scale', 1.0), offset: ctm === 'half_pixel' ? 0.5 : 0, isMax: mode === 'max' ? 1 : 0 });
  return withF16([{
    name: 'roi_align',
    dispatches: [{ shader: 'nn/roi_align', params, workgroup: [64, 1, 1], groups: grid1d(n, 64, ctx.caps), bindings: [{ input: 0 }, { input: 1 }, { input: 2 }, { output: 0 }] }],
  }], ctx);
}
