/** GPU kernel of GridSample (shaders/nn/grid_sample.comp): 1-3 spatial axes, every mode and padding. */
import { KernelContext, KernelImpl, grid1d, withF16 } from '../../../kernel/contract';
import { glslEnum, paramLayout } from '../../../kernel/params';
import { isFloat } from '../../../ir/dtype';
import { dhw } from './conv';

/** grid_sample.comp's MODE and PAD (the mode and padding_mode attributes). */
const GRID_MODE = glslEnum('GRID_MODE', { nearest: 0, linear: 1, cubic: 2 }, 'int', "grid_sample.comp's MODE define, src/ops/nn/gpu/grid.ts");
const GRID_PADDING = glslEnum('GRID_PADDING', { zeros: 0, border: 1, reflection: 2 }, 'int', "grid_sample.comp's PAD define, src/ops/nn/gpu/grid.ts");

/** shaders/nn/grid_sample.comp: outputs, channels, input and output spatial dims (3-D, leading 1s). */
const GRID_SAMPLE = paramLayout('grid_sample', {
  total: 'u32', C: 'u32', ID: 'u32', IH: 'u32', IW: 'u32', OD: 'u32', OH: 'u32', OW: 'u32',
}, 'GridSample, one invocation per output (src/ops/nn/gpu/grid.ts).');

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
  if (!(mode in GRID_MODE) || !(padding in GRID_PADDING)) return ctx.fail(`mode '${mode}' / padding_mode '${padding}' is not valid`);
  const MODE = GRID_MODE[mode as keyof typeof GRID_MODE];
  const PAD = GRID_PADDING[padding as keyof typeof GRID_PADDING];
  if (MODE === GRID_MODE.cubic && r !== 2) return ctx.unsupported('cubic mode is only defined for 2-D inputs');
  const pad3 = (v: readonly number[]) => [...new Array<number>(3 - v.length).fill(1), ...v];
  const total = y.dims.reduce((a, b) => a * b, 1);
  const params = GRID_SAMPLE.pack({ total, C: x.dims[1], ...dhw('I', pad3(x.dims.slice(2))), ...dhw('O', pad3(y.dims.slice(2))) });
  return [{
    name: 'gridsample_direct',
    dispatches: [{
      shader: 'nn/grid_sample', defines: { R: r, MODE, PAD, ALIGN: ctx.attrs.int('align_corners', 0) !== 0 ? 1 : 0 },
      params, workgroup: [64, 1, 1], groups: grid1d(total, 64, ctx.caps), bindings: [{ input: 0 }, { input: 1 }, { output: 0 }],
    }],
  }];
}

/** shaders/nn/affine_grid.comp: outputs, spatial axes (2|3), D (1 for 2-D), H, W, align_corners. */
const AFFINE_GRID = paramLayout('affine_grid', { n: 'u32', R: 'u32', D: 'u32', H: 'u32', W: 'u32', align: 'u32' },
  'AffineGrid, one invocation per output element (src/ops/nn/gpu/grid.ts).');

/** AffineGrid: the output's spatial dims are the grid's (size may be a run-time input when the output shape is known). */
export function affineGridKernel(ctx: KernelContext): KernelImpl[] {
  const [th, size] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!th || !size) return ctx.fail('theta and size are required');
  if (!isFloat(th.dtype)) return ctx.fail(`theta must be floating-point, got ${th.dtype}`);
  const r = y.dims.length - 2;
  if ((r !== 2 && r !== 3) || y.dims[r + 1] !== r) return ctx.fail(`the output must be [N, (D,) H, W, 2|3], got [${y.dims.join(',')}]`);
  const N = y.dims[0];
  if (th.dims.length !== 3 || th.dims[0] !== N || th.dims[1] !== r || th.dims[2] !== r + 1) return ctx.fail(`theta must be [${N}, ${r}, ${r + 1}], got [${th.dims.join(',')}]`);
  if (size.constant) {
    const s = Array.from(size.constant.toNumbers());
    if (s.length !== r + 2 || s[0] !== N || s.slice(2).some((d, a) => d !== y.dims[1 + a])) return ctx.fail(`size [${s.join(',')}] does not fit the output [${y.dims.join(',')}]`);
  }
  const sp = y.dims.slice(1, 1 + r);
  const [D, H, W] = r === 3 ? sp : [1, ...sp];
  const n = y.dims.reduce((a, b) => a * b, 1);
  return withF16([{
    name: 'affine_grid',
    dispatches: [{
      shader: 'nn/affine_grid', params: AFFINE_GRID.pack({ n, R: r, D, H, W, align: ctx.attrs.int('align_corners', 0) !== 0 ? 1 : 0 }),
      workgroup: [64, 1, 1], groups: grid1d(n, 64, ctx.caps), bindings: [{ input: 0 }, { output: 0 }],
    }],
  }], ctx);
}
