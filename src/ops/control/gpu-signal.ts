/**
 * GPU kernels of the signal ops (shaders/control/dft.comp, stft.comp, window.comp): one invocation
 * per output element, each the plain O(n) sum the reference computes (no FFT). Scalars that are
 * run-time inputs (DFT's axis and dft_length, STFT's frame_step and frame_length, a window's size)
 * are read from their buffers by the shader; output shapes are those the builder knows (folded
 * from constants, or declared by the model).
 */
import { BindingRef, grid1d, KernelContext, KernelImpl, withF16 } from '../../kernel/contract';
import { paramLayout } from '../../kernel/params';
import { isFloat } from '../../ir/dtype';

/** shaders/control/dft.comp: outputs, rank (with the complex axis), axis (without an axis input), onesided, inverse, per-axis input/output dims. */
const DFT = paramLayout('dft', {
  n: 'u32', rank: 'u32', axis: 'i32', onesided: 'u32', inverse: 'u32', dims: { each: { inDim: 'u32', outDim: 'u32' } },
}, 'DFT, one invocation per output element (src/ops/control/gpu-signal.ts).');
/** shaders/control/stft.comp: outputs, frames, bins, signal length, components (1|2), window length. */
const STFT = paramLayout('stft', { n: 'u32', frames: 'u32', bins: 'u32', length: 'u32', comps: 'u32', L: 'u32' },
  'STFT, one invocation per output element (src/ops/control/gpu-signal.ts).');
/** shaders/control/window.comp: outputs, periodic, the cosine coefficients. */
const WINDOW = paramLayout('window', { n: 'u32', periodic: 'u32', a0: 'f32', a1: 'f32', a2: 'f32' },
  'Hann/Hamming/Blackman windows (src/ops/control/gpu-signal.ts).');

const WG = 64;
const sizeOf = (d: readonly number[]) => d.reduce((a, b) => a * b, 1);
const isInt = (g: string) => g === 'i32';

export function dftKernel(ctx: KernelContext): KernelImpl[] {
  const [x, lenT, axisT] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!x) return ctx.fail('input is required');
  if (!isFloat(x.dtype)) return ctx.fail(`input must be a float tensor, got ${x.dtype}`);
  const r = x.dims.length;
  const last = x.dims[r - 1];
  if (r < 2 || (last !== 1 && last !== 2)) return ctx.fail(`the last axis must be 1 (real) or 2 (complex), got [${x.dims.join(',')}]`);
  if (y.dims.length !== r) return ctx.fail(`output rank ${y.dims.length} differs from the input's ${r}`);
  if (r > 12) return ctx.unsupported(`DFT over rank ${r} has no GPU kernel (at most 12)`);
  if (lenT && !isInt(lenT.gpu)) return ctx.fail(`dft_length must be an integer, got ${lenT.dtype}`);
  const defines: Record<string, number> = { RANK: r };
  let axis = -2;
  if (ctx.opset >= 20) {
    if (axisT?.constant) axis = Number(axisT.constant.data[0]);
    else if (axisT) {
      if (!isInt(axisT.gpu)) return ctx.fail(`axis must be an integer, got ${axisT.dtype}`);
      defines.HAS_AXIS = 1;
    }
  } else axis = ctx.attrs.int('axis', 1);
  if (!defines.HAS_AXIS) {
    const a = axis < 0 ? axis + r : axis;
    if (a < 0 || a >= r - 1) return ctx.fail(`axis ${axis} is out of range for an input of rank ${r} (the last axis holds real/imaginary parts)`);
    axis = a;
  }
  if (lenT) defines.HAS_LEN = 1;
  const onesided = ctx.attrs.int('onesided', 0) !== 0 ? 1 : 0;
  const inverse = ctx.attrs.int('inverse', 0) !== 0 ? 1 : 0;
  if (y.dims[r - 1] !== (onesided && inverse ? 1 : 2)) return ctx.fail(`the output's last axis must be ${onesided && inverse ? 1 : 2}, got [${y.dims.join(',')}]`);
  const n = sizeOf(y.dims);
  const dummy: BindingRef = { input: 0 };
  const params = DFT.pack({ n, rank: r, axis: defines.HAS_AXIS ? 0 : axis, onesided, inverse, dims: x.dims.map((d, a) => ({ inDim: d, outDim: y.dims[a] })) });
  return withF16([{
    name: 'dft_direct',
    dispatches: [{ shader: 'control/dft', defines, params, workgroup: [WG, 1, 1], groups: grid1d(n, WG, ctx.caps), bindings: [{ input: 0 }, lenT ? { input: 1 } : dummy, defines.HAS_AXIS ? { input: 2 } : dummy, { output: 0 }] }],
  }], ctx);
}

export function stftKernel(ctx: KernelContext): KernelImpl[] {
  const [sig, stepT, win, flT] = ctx.inputs;
  const y = ctx.outputs[0];
  if (!sig || !stepT) return ctx.fail('signal and frame_step are required');
  if (sig.dims.length !== 3 || (sig.dims[2] !== 1 && sig.dims[2] !== 2)) return ctx.fail(`signal must be [batch, length, 1|2], got [${sig.dims.join(',')}]`);
  if (!isInt(stepT.gpu) || (flT && !isInt(flT.gpu))) return ctx.fail('frame_step and frame_length must be integers');
  if (win && win.dims.length !== 1) return ctx.fail('window must be 1-D');
  if (!win && !flT) return ctx.fail('either window or frame_length is required');
  const [B, length, comps] = sig.dims;
  if (y.dims.length !== 4 || y.dims[0] !== B || y.dims[3] !== 2) return ctx.fail(`output must be [${B}, frames, bins, 2], got [${y.dims.join(',')}]`);
  const onesided = ctx.attrs.int('onesided', 1) !== 0;
  if (onesided && comps === 2) return ctx.fail('onesided output needs a real signal');
  const [, frames, bins] = y.dims;
  let L = win ? win.dims[0] : 0;
  const defines: Record<string, number> = {};
  if (win) defines.HAS_WINDOW = 1;
  // a known frame_length is checked here; with a window the window's length is the frame's
  if (flT?.constant) {
    const fl = Number(flT.constant.data[0]);
    if (win && fl !== L) return ctx.fail(`window length ${L} differs from frame_length ${fl}`);
    L = fl;
  } else if (flT && !win) defines.HAS_FLEN = 1;
  if (!defines.HAS_FLEN && !(L >= 1 && L <= length)) return ctx.fail(`frame_length ${L} must be in [1, ${length}]`);
  if (!defines.HAS_FLEN && bins !== (onesided ? Math.floor(L / 2) + 1 : L)) return ctx.fail(`output bins ${bins} do not fit frame_length ${L}`);
  const n = sizeOf(y.dims);
  const dummy: BindingRef = { input: 0 };
  const params = STFT.pack({ n, frames, bins, length, comps, L: Math.max(L, 1) });
  return withF16([{
    name: 'stft_direct',
    dispatches: [{ shader: 'control/stft', defines, params, workgroup: [WG, 1, 1], groups: grid1d(n, WG, ctx.caps), bindings: [{ input: 0 }, { input: 1 }, win ? { input: 2 } : dummy, defines.HAS_FLEN ? { input: 3 } : dummy, { output: 0 }] }],
  }], ctx);
}

/** A window op's kernel: w = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N). */
export function windowKernel(a0: number, a1: number, a2: number): (ctx: KernelContext) => KernelImpl[] {
  return (ctx) => {
    const [sizeT] = ctx.inputs;
    if (!sizeT) return ctx.fail('size is required');
    if (!isInt(sizeT.gpu) || sizeOf(sizeT.dims) !== 1) return ctx.fail(`size must be an integer scalar, got ${sizeT.dtype} [${sizeT.dims.join(',')}]`);
    const y = ctx.outputs[0];
    if (y.dims.length !== 1) return ctx.fail(`the output must be 1-D, got [${y.dims.join(',')}]`);
    const n = y.dims[0];
    const params = WINDOW.pack({ n, periodic: ctx.attrs.int('periodic', 1) !== 0 ? 1 : 0, a0, a1, a2 });
    return withF16([{
      name: 'window',
      dispatches: [{ shader: 'control/window', params, workgroup: [WG, 1, 1], groups: grid1d(n, WG, ctx.caps), bindings: [{ input: 0 }, { output: 0 }] }],
    }], ctx);
  };
}
