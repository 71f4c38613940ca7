/** GPU kernel of GridSample (shaders/nn/grid_sample.comp): 1-3 spatial axes, every mode and padding. */
import { KernelContext, KernelImpl, grid1d } from '../../../kernel/contract';
import { isFloat } from '../../../ir/dtype';

export function gridSampleKernel(ctx: KernelContext): KernelImpl[] {
  const [x, g] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!x || !g) return ctx.fail('GridSample needs X and grid');
  if (!isFloat(x.dtype) || !isFloat(g.dtype)) return ctx.unsupported(`GridSample on ${x.dtype}`);
  const r = x.dims.length - 2;
  if (r < 1 || r > 3) return ctx.unsupported(`GridSample over ${r} spatial axes has no GPU kernel (1-3 are supported)`);
  let mode = ctx.attrs.string('mode', ctx.opset >= 20 ? 'linear' : 'bilinear');
  mode = mode === 'bilinear' ? 'linear' : mode === 'bicubic' ? 'cubic' : mode;
  const padding = ctx.attrs.string('padding_mode', 'zeros');
  const MODE = ['nearest', 'linear', 'cubic'].indexOf(mode);
  const PAD = ['zeros', 'border', 'reflection'].indexOf(padding);
  if (MODE < 0 || PAD < 0) return ctx.fail(`mode '${mode}' / padding_mode '${padding}' is not valid`);
  if (MODE === 2 && r !== 2) return ctx.unsupported('cubic mode is only defined for 2-D inputs');
  const pad3 = (v: readonly number[]) => [...new Array<number>(3 - v.length).fill(1), ...v];
  const total = y.dims.reduce((a, b) => a * b, 1);
  const params = [total, x.dims[1], ...pad3(x.dims.slice(2)), ...pad3(y.dims.slice(2))];
  return [{
    name: 'gridsample_direct',
    dispatches: [{
      shader: 'nn/grid_sample', defines: { R: r, MODE, PAD, ALIGN: ctx.attrs.int('align_corners', 0) !== 0 ? 1 : 0 },
      params, workgroup: [64, 1, 1], groups: grid1d(total, 64, ctx.caps), bindings: [{ input: 0 }, { input: 1 }, { output: 0 }],
    }],
  }];
}
