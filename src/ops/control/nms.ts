/** NonMaxSuppression (opset 10+; center_point_box 0 = [y1,x1,y2,x2] corners, 1 = [xc,yc,w,h]). */
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef } from '../types';
import { scalarOf, toF64 } from '../util/control-tensor';

/** Corners [ymin, xmin, ymax, xmax] of box i in `b` (corners may come flipped). */
function corners(b: Float64Array, i: number, center: boolean): [number, number, number, number] {
  const o = i * 4;
  if (center) {
    const [xc, yc, w, h] = [b[o], b[o + 1], b[o + 2], b[o + 3]];
    return [yc - h / 2, xc - w / 2, yc + h / 2, xc + w / 2];
  }
  return [Math.min(b[o], b[o + 2]), Math.min(b[o + 1], b[o + 3]), Math.max(b[o], b[o + 2]), Math.max(b[o + 1], b[o + 3])];
}

function iou(a: [number, number, number, number], b: [number, number, number, number]): number {
  const ih = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const iw = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const inter = ih * iw;
  const ua = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return ua > 0 ? inter / ua : 0;
}

export const NonMaxSuppression: OpDef = {
  opType: 'NonMaxSuppression',
  sinceVersion: 10,
  // on the GPU as vkrt::NonMaxSuppressionBounded (tensor/bounded.ts), trimmed along axis 0 by the staged engine
  traits: { dataDependent: { bounded: 'NonMaxSuppressionBounded', outputs: 1, trimAxis: () => 0 } },
  inferShape() {
    return [{ dtype: 'int64', shape: ['num_selected', 3] }];
  },
  reference(ctx: OpContext, [boxesT, scoresT, maxT, iouT, scoreT]) {
    if (!boxesT || !scoresT) ctx.fail('boxes and scores are required');
    const center = ctx.attrs.int('center_point_box', 0);
    if (center !== 0 && center !== 1) ctx.fail(`center_point_box must be 0 or 1, got ${center}`);
    if (boxesT.dims.length !== 3 || boxesT.dims[2] !== 4) ctx.fail(`boxes must be [batch, boxes, 4], got [${boxesT.dims.join(',')}]`);
    const [B, N] = boxesT.dims;
    if (scoresT.dims.length !== 3 || scoresT.dims[0] !== B || scoresT.dims[2] !== N) ctx.fail(`scores must be [${B}, classes, ${N}], got [${scoresT.dims.join(',')}]`);
    const C = scoresT.dims[1];
    const maxOut = maxT && maxT.size ? scalarOf(maxT, 'max_output_boxes_per_class', ctx.fail) : 0;
    const iouTh = iouT && iouT.size ? scalarOf(iouT, 'iou_threshold', ctx.fail) : 0;
    const scoreTh = scoreT && scoreT.size ? scalarOf(scoreT, 'score_threshold', ctx.fail) : -Infinity;
    if (!(iouTh >= 0 && iouTh <= 1)) ctx.fail(`iou_threshold must be in [0, 1], got ${iouTh}`);
    const boxes = toF64(boxesT), scores = toF64(scoresT);
    const selected: number[] = [];
    for (let b = 0; b < B; b++) {
      const bb = boxes.subarray(b * N * 4, (b + 1) * N * 4);
      for (let c = 0; c < C; c++) {
        if (maxOut <= 0) continue;
        const s = scores.subarray((b * C + c) * N, (b * C + c + 1) * N);
        const cand: number[] = [];
        for (let i = 0; i < N; i++) if (s[i] > scoreTh) cand.push(i);
        cand.sort((i, j) => s[j] - s[i] || i - j);
        const kept: [number, number, number, number][] = [];
        for (const i of cand) {
          if (kept.length >= maxOut) break;
          const ci = corners(bb, i, center === 1);
          if (kept.some((k) => iou(k, ci) > iouTh)) continue;
          kept.push(ci);
          selected.push(b, c, i);
        }
      }
    }
    return [Tensor.from('int64', [selected.length / 3, 3], selected)];
  },
};

export const NMS_OPS: OpDef[] = [NonMaxSuppression];
