/**
 * The data-dependent ops' GPU kernels (src/ops/tensor/bounded.ts, shaders/tensor/select.comp)
 * against their references: NonZero and Compress at their upper bound plus the count, on odd
 * sizes, sizes over one workgroup's chunk (256), every storage the kernels read, -0.0 and NaN.
 */
import { strict as assert } from 'assert';
import { Device } from '../../src/gpu';
import { Attr } from '../../src/ir/graph';
import { Tensor } from '../../src/ir/tensor';
import { openDevice } from '../helpers/gpu';
import { checkOp, ODD_SIZES, randomTensor } from '../helpers/gpu-op';

const int = (value: number): Attr => ({ type: 'int', value });
const exact = { rtol: 0, atol: 0 };
const bounded = { domain: 'vkrt', opset: 1, outputs: 2, ...exact };

/** A float tensor with about a third zeros (some -0.0) and a NaN. */
function sparse(dims: number[], seed: number): Tensor {
  const t = randomTensor('float32', dims, seed);
  const d = t.data as Float32Array;
  for (let i = 0; i < d.length; i++) if (d[i] < -0.7) d[i] = i % 2 ? -0 : 0;
  if (d.length > 4) d[3] = NaN;
  return t;
}

describe('GPU data-dependent kernels (bounded)', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('NonZeroBounded: coordinates of the non-zeros, zero-padded, and their count', async () => {
    for (const n of ODD_SIZES) await checkOp(device, { op: 'NonZeroBounded', inputs: [sparse([n], n)], ...bounded });
    for (const dims of [[13, 27], [3, 1, 5, 7], [2, 300]]) await checkOp(device, { op: 'NonZeroBounded', inputs: [sparse(dims, dims.length)], ...bounded });
    await checkOp(device, { op: 'NonZeroBounded', inputs: [randomTensor('int32', [7, 41], 5, -1, 1)], ...bounded });
    await checkOp(device, { op: 'NonZeroBounded', inputs: [randomTensor('bool', [3, 129], 6)], ...bounded });
    await checkOp(device, { op: 'NonZeroBounded', inputs: [Tensor.zeros('float32', [4, 5])], ...bounded });
  });

  it('CompressBounded: selected slices along an axis or of the flattened input, zero-padded, and their count', async () => {
    const cond = (len: number, seed: number) => randomTensor('bool', [len], seed);
    for (const n of ODD_SIZES) await checkOp(device, { op: 'CompressBounded', inputs: [randomTensor('float32', [n, 3], n), cond(n, n + 1)], attrs: { axis: int(0) }, ...bounded });
    const x = randomTensor('float32', [5, 13, 7], 9);
    for (const axis of [0, 1, 2, -1, -3]) {
      const len = x.dims[axis < 0 ? axis + 3 : axis];
      await checkOp(device, { op: 'CompressBounded', inputs: [x, cond(len, 10 + axis)], attrs: { axis: int(axis) }, ...bounded });
      await checkOp(device, { op: 'CompressBounded', inputs: [x, cond(Math.max(1, len - 2), 20 + axis)], attrs: { axis: int(axis) }, ...bounded });
    }
    await checkOp(device, { op: 'CompressBounded', inputs: [x, cond(300, 3)], ...bounded });
    await checkOp(device, { op: 'CompressBounded', inputs: [randomTensor('int32', [4, 9], 4, -5, 5), cond(9, 8)], attrs: { axis: int(1) }, ...bounded });
  });

  it('UniqueBounded: values, first indices, inverse and counts, sorted or not, per axis; NaN equals NaN, -0.0 equals 0.0', async () => {
    // few distinct values (ties), -0.0 next to 0.0, NaN twice
    const few = (dims: number[], seed: number) => {
      const t = randomTensor('float32', dims, seed, -2, 2);
      const d = t.data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] = Math.round(d[i]);
      for (let i = 0; i < d.length; i++) if (d[i] === 0 && i % 2) d[i] = -0;
      if (d.length > 5) { d[2] = NaN; d[5] = NaN; }
      return t;
    };
    for (const n of ODD_SIZES) {
      for (const sorted of [0, 1]) await checkOp(device, { op: 'UniqueBounded', inputs: [few([n], n)], attrs: { sorted: int(sorted) }, outputs: 8, domain: 'vkrt', opset: 1, ...exact });
    }
    const x = few([3, 5, 4], 7);
    // repeat slices along axis 1 so that some are equal
    const d = x.data as Float32Array;
    for (let o = 0; o < 3; o++) for (let q = 0; q < 4; q++) d[(o * 5 + 3) * 4 + q] = d[(o * 5 + 1) * 4 + q];
    for (const axis of [0, 1, 2, -1]) {
      for (const sorted of [0, 1]) await checkOp(device, { op: 'UniqueBounded', inputs: [x], attrs: { axis: int(axis), sorted: int(sorted) }, outputs: 8, domain: 'vkrt', opset: 1, ...exact });
    }
    await checkOp(device, { op: 'UniqueBounded', inputs: [randomTensor('int32', [2, 37], 3, -3, 3)], attrs: { axis: int(1) }, outputs: 8, domain: 'vkrt', opset: 1, ...exact });
  });

  it('NonMaxSuppressionBounded: greedy selection per batch and class, rows in order, zero-padded, and the count', async () => {
    const scalar = (dtype: 'int64' | 'float32', v: number) => Tensor.from(dtype, [1], [v]);
    for (const [B, C, N] of [[1, 1, 1], [2, 3, 13], [1, 2, 300], [3, 1, 7]]) {
      for (const center of [0, 1]) {
        // boxes on a small grid so that many overlap; scores with ties (rounded to tenths)
        const boxes = randomTensor('float32', [B, N, 4], B * 100 + N + center, 0, 4);
        const scores = randomTensor('float32', [B, C, N], B + C + N, 0, 1);
        const sd = scores.data as Float32Array;
        for (let i = 0; i < sd.length; i++) sd[i] = Math.round(sd[i] * 10) / 10;
        for (const [maxOut, iou, score] of [[3, 0.5, 0.2], [N + 5, 0.3, 0], [2, 1, 0.95]]) {
          await checkOp(device, {
            op: 'NonMaxSuppressionBounded', attrs: { center_point_box: int(center) },
            inputs: [boxes, scores, scalar('int64', maxOut), scalar('float32', iou), scalar('float32', score)], constant: [2, 3, 4], ...bounded,
          });
        }
      }
    }
  });
});
