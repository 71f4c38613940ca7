// A vkrt plugin: com.example::SwiGLU, the gated activation of LLaMA-style MLPs, as a PyTorch
// model exports it through a torch.onnx custom symbolic (see README.md).
//
//   y = silu(a) * b   where a, b = x.chunk(2, dim=axis)   (attribute axis, default -1)
//
// Load it with `vkrt exec --plugins=./examples/plugins/swiglu-plugin.js`, with
// BuilderConfig.plugins: ['./examples/plugins/swiglu-plugin.js'], or register it in code:
// vkrt.plugins.register(require('./swiglu-plugin.js')(vkrt)).
//
// The module exports a function of vkrt's plugin helpers so it needs no require('vkrt') of its own.
'use strict';
const fs = require('fs');
const path = require('path');

const SOURCE = fs.readFileSync(path.join(__dirname, 'swiglu.comp'), 'utf8');

/** @param {import('../../src/plugins/load').PluginHelpers} vkrt */
module.exports = ({ Tensor, grid1d }) => {
  /** The axis, normalized, and the [outer, H, inner] view of an input of shape `dims`. */
  function geometry(ctx, dims) {
    const rank = dims.length;
    const a = ctx.attrs.int('axis', -1);
    const axis = a < 0 ? a + rank : a;
    if (axis < 0 || axis >= rank) ctx.fail(`axis ${a} is out of range for rank ${rank}`);
    const d = dims[axis];
    if (typeof d === 'number' && d % 2) ctx.fail(`the size along axis ${axis} must be even to split in two halves, got ${d}`);
    const prod = (xs) => xs.reduce((p, v) => p * v, 1);
    return { axis, H: d / 2, outer: prod(dims.slice(0, axis)), inner: prod(dims.slice(axis + 1)) };
  }

  /** @type {import('../../src/plugins/types').PluginDef} */
  const plugin = {
    name: 'swiglu',
    version: '1.0.0',
    domain: 'com.example',
    opType: 'SwiGLU',
    versions: 1,
    precisions: ['fp32', 'fp16'],
    layouts: ['linear'],

    // Shape function: the input's shape with the axis halved.
    inferShape(ctx, [x]) {
      if (!x) ctx.fail('input X is required');
      if (!x.dtype.startsWith('float')) ctx.fail(`X must be floating-point, got ${x.dtype}`);
      if (!x.shape) return [{ dtype: x.dtype }];
      const { axis, H } = geometry(ctx, x.shape);
      const shape = x.shape.slice();
      shape[axis] = typeof shape[axis] === 'number' ? H : `${shape[axis]}/2`;
      return [{ kind: 'tensor', dtype: x.dtype, shape }];
    },

    // Reference (CPU): what the kernel must compute; vkrt compare and the tests check against it.
    reference(ctx, [x]) {
      const { axis, H, outer, inner } = geometry(ctx, x.dims);
      const dims = x.dims.slice();
      dims[axis] = H;
      const out = new Float64Array(outer * H * inner);
      for (let o = 0; o < out.length; o++) {
        const ii = o % inner, t = Math.floor(o / inner), h = t % H;
        const ia = (Math.floor(t / H) * 2 * H + h) * inner + ii;
        const a = Number(x.data[ia]), b = Number(x.data[ia + H * inner]);
        out[o] = (a / (1 + Math.exp(-a))) * b;
      }
      return [Tensor.from(x.dtype, dims, out)];
    },

    // Kernel: two tactics with the same shader (one or four outputs per invocation); the builder's
    // kernel selection picks one as it does for built-in operators.
    kernel(ctx) {
      const { H, inner } = geometry(ctx, ctx.inputs[0].dims);
      const n = ctx.outputs[0].dims.reduce((p, v) => p * v, 1);
      const tactic = (name, per, wg) => ({
        name,
        dispatches: [{
          shader: name,
          source: SOURCE,
          defines: { PER_INVOCATION: per },
          params: [n, H, inner],
          workgroup: [wg, 1, 1],
          groups: grid1d(Math.ceil(n / per), wg, ctx.caps),
          bindings: [{ input: 0 }, { output: 0 }],
        }],
      });
      const tactics = [tactic('swiglu_x1', 1, 256)];
      if (n >= 4096) tactics.unshift(tactic('swiglu_x4', 4, 128));
      else tactics.push(tactic('swiglu_x4', 4, 128));
      return tactics;
    },
  };
  return plugin;
};
