/** RoiAlign (avg and max modes, half_pixel / output_half_pixel). */
import { isFloat } from '../../ir/dtype';
import { OpDef } from '../types';
import { checkOutDims, checkWork, f64, floatTensor, need } from '../util/nn-common';
import { roiAlignKernel } from './gpu/roi-align';

export const RoiAlign: OpDef = {
  opType: 'RoiAlign',
  sinceVersion: 10,
  kernel: roiAlignKernel,
  inferShape(ctx, [x, rois]) {
    const dtype = x?.dtype ?? 'float32';
    const oh = ctx.attrs.int('output_height', 1);
    const ow = ctx.attrs.int('output_width', 1);
    return [{ dtype, shape: [rois?.shape?.[0] ?? `${ctx.node.outputs[0]}_d0`, x?.shape?.[1] ?? `${ctx.node.outputs[0]}_d1`, oh, ow] }];
  },
  reference(ctx, inputs) {
    const X = need(ctx, inputs, 0, 'X');
    const R = need(ctx, inputs, 1, 'rois');
    const BI = need(ctx, inputs, 2, 'batch_indices');
    if (!isFloat(X.dtype)) ctx.fail(`X must be floating-point, got ${X.dtype}`);
    const mode = ctx.attrs.string('mode', 'avg');
    const oh = ctx.attrs.int('output_height', 1);
    const ow = ctx.attrs.int('output_width', 1);
    const samplingRatio = ctx.attrs.int('sampling_ratio', 0);
    const scale = ctx.attrs.float('spatial_scale', 1.0);
    // opset 10 behaves as output_half_pixel; opset 16 added the attribute with default half_pixel
    const ctm = ctx.opset >= 16 ? ctx.attrs.string('coordinate_transformation_mode', 'half_pixel') : 'output_half_pixel';
    if (mode !== 'avg' && mode !== 'max') ctx.fail(`mode '${mode}' is not avg or max`);
    if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel') ctx.fail(`coordinate_transformation_mode '${ctm}' is not half_pixel or output_half_pixel`);
    if (oh < 1 || ow < 1 || samplingRatio < 0) ctx.fail('output_height/output_width must be positive and sampling_ratio non-negative');
    if (X.rank !== 4) ctx.fail(`X must be 4-D, got [${X.dims.join(',')}]`);
    if (R.rank !== 2 || R.dims[1] !== 4) ctx.fail(`rois must be [num_rois, 4], got [${R.dims.join(',')}]`);
    const [N, C, H, W] = X.dims;
    const K = R.dims[0];
    if (BI.size !== K) ctx.fail(`batch_indices has ${BI.size} elements, expected ${K}`);
    const dims = [K, C, oh, ow];
    checkOutDims(ctx, dims);
    const x = f64(X);
    const rois = f64(R);
    const bidx = BI.toNumbers();
    const off = ctm === 'half_pixel' ? 0.5 : 0;
    const out = new Float64Array(K * C * oh * ow);
    for (let k = 0; k < K; k++) {
      const b = bidx[k];
      if (!Number.isInteger(b) || b < 0 || b >= N) ctx.fail(`batch index ${b} is out of range [0, ${N})`);
      const x0 = rois[k * 4] * scale - off;
      const y0 = rois[k * 4 + 1] * scale - off;
      const x1 = rois[k * 4 + 2] * scale - off;
      const y1 = rois[k * 4 + 3] * scale - off;
      let rw = x1 - x0;
      let rh = y1 - y0;
      if (ctm === 'output_half_pixel') { rw = Math.max(rw, 1); rh = Math.max(rh, 1); }
      const binH = rh / oh;
      const binW = rw / ow;
      const gh = samplingRatio > 0 ? samplingRatio : Math.ceil(rh / oh);
      const gw = samplingRatio > 0 ? samplingRatio : Math.ceil(rw / ow);
      if (!(gh * gw <= 1 << 20)) ctx.fail(`the sampling grid of ${gh}x${gw} per bin is too large`);
      checkWork(ctx, K * C * oh * ow * gh * gw, 'RoiAlign');
      const count = Math.max(gh * gw, 1);
      for (let ph = 0; ph < oh; ph++) {
        for (let pw = 0; pw < ow; pw++) {
          // bilinear sample positions and weights, shared by every channel
          const samples: { o: number[]; w: number[] }[] = [];
          for (let iy = 0; iy < gh; iy++) {
            const y = y0 + ph * binH + ((iy + 0.5) * binH) / gh;
            for (let ix = 0; ix < gw; ix++) {
              let xx = x0 + pw * binW + ((ix + 0.5) * binW) / gw;
              if (y < -1 || y > H || xx < -1 || xx > W) { samples.push({ o: [0, 0, 0, 0], w: [0, 0, 0, 0] }); continue; }
              let yy = Math.max(y, 0);
              xx = Math.max(xx, 0);
              let yl = Math.trunc(yy), xl = Math.trunc(xx), yh: number, xh: number;
              if (yl >= H - 1) { yh = yl = H - 1; yy = yl; } else yh = yl + 1;
              if (xl >= W - 1) { xh = xl = W - 1; xx = xl; } else xh = xl + 1;
              const ly = yy - yl, lx = xx - xl, hy = 1 - ly, hx = 1 - lx;
              samples.push({ o: [yl * W + xl, yl * W + xh, yh * W + xl, yh * W + xh], w: [hy * hx, hy * lx, ly * hx, ly * lx] });
            }
          }
          for (let c = 0; c < C; c++) {
            const base = (b * C + c) * H * W;
            let acc = 0;
            let first = true;
            for (const s of samples) {
              if (mode === 'avg') {
                acc += s.w[0] * x[base + s.o[0]] + s.w[1] * x[base + s.o[1]] + s.w[2] * x[base + s.o[2]] + s.w[3] * x[base + s.o[3]];
              } else {
                const v = Math.max(s.w[0] * x[base + s.o[0]], s.w[1] * x[base + s.o[1]], s.w[2] * x[base + s.o[2]], s.w[3] * x[base + s.o[3]]);
                acc = first ? v : Math.max(acc, v);
                first = false;
              }
            }
            out[((k * C + c) * oh + ph) * ow + pw] = mode === 'avg' ? acc / count : acc;
          }
        }
      }
    }
    return [floatTensor(X.dtype, dims, out)];
  },
};
