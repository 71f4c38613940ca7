/**
 * GPU kernels of operators that ran only on the reference before (sequence/state ops, signal
 * processing, Col2Im and others) against the reference, on odd sizes, both param modes,
 * validation layer on.
 */
import { strict as assert } from 'assert';
import { Attr } from '../../src/ir/graph';
import { Device } from '../../src/gpu';
import { openDevice } from '../helpers/gpu';
import { checkOp, OpCase, randomTensor, rng } from '../helpers/gpu-op';
import { Tensor } from '../../src/ir/tensor';

const int = (value: number): Attr => ({ type: 'int', value });
const float = (value: number): Attr => ({ type: 'float', value });
const str = (value: string): Attr => ({ type: 'string', value });
const declared = (device: Device, c: OpCase) => checkOp(device, c, { declareOutputs: true });
const i64 = (v: number) => Tensor.from('int64', [], [v]);
const i64s = (v: number[]) => Tensor.from('int64', [v.length], v);
const ints = (value: number[]): Attr => ({ type: 'ints', value });
const f = (dims: number[], seed: number, lo = -1, hi = 1) => randomTensor('float32', dims, seed, lo, hi);

describe('GPU kernels: sequence, signal and other operators', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('CausalConvWithState: kernel sizes 1-5, bias, past state, silu, odd lengths', async () => {
    let seed = 100;
    for (const [B, C, L, K] of [[1, 1, 1, 1], [2, 3, 7, 4], [1, 13, 1, 3], [3, 5, 127, 5], [2, 4, 2, 5]]) {
      for (const act of ['none', 'silu']) {
        const x = f([B, C, L], seed++), w = f([C, 1, K], seed++);
        await checkOp(device, { op: 'CausalConvWithState', opset: 27, attrs: { activation: str(act) }, inputs: [x, w], outputs: 2 });
        await checkOp(device, { op: 'CausalConvWithState', opset: 27, attrs: { activation: str(act) }, inputs: [x, w, f([C], seed++), f([B, C, K - 1], seed++)], outputs: 2 });
      }
    }
    // 2-D weight, only the output
    await checkOp(device, { op: 'CausalConvWithState', opset: 27, inputs: [f([2, 3, 9], 150), f([3, 4], 151)], outputs: 1 });
  });

  it('LinearAttention: every update rule, GQA/MQA, per-head and per-key decay, past state', async () => {
    let seed = 200;
    const tol = { rtol: 1e-3, atol: 1e-4 };
    // [B, T, Hq, Hkv, Dk, Dv]
    for (const [B, T, Hq, Hkv, Dk, Dv] of [[1, 1, 1, 1, 1, 1], [2, 5, 4, 2, 3, 7], [1, 13, 3, 1, 5, 2], [2, 3, 2, 2, 16, 13]]) {
      for (const rule of ['linear', 'gated', 'delta', 'gated_delta']) {
        const q = f([B, T, Hq * Dk], seed++), k = f([B, T, Hkv * Dk], seed++, -0.5, 0.5), v = f([B, T, Hkv * Dv], seed++);
        const past = f([B, Hkv, Dk, Dv], seed++);
        const decay = f([B, T, Hkv * (seed % 2 ? Dk : 1)], seed++, -0.5, 0);
        const beta = f([B, T, seed % 2 ? Hkv : 1], seed++, 0, 1);
        const attrs = { q_num_heads: int(Hq), kv_num_heads: int(Hkv), update_rule: str(rule) };
        await checkOp(device, { op: 'LinearAttention', opset: 27, attrs, inputs: [q, k, v, past, decay, beta], outputs: 2, ...tol });
        await checkOp(device, { op: 'LinearAttention', opset: 27, attrs: { ...attrs, scale: float(0.7) }, inputs: [q, k, v, null, decay, beta], outputs: 2, ...tol });
      }
    }
  });

  it('FlexAttention (no mods): GQA, odd lengths, different value head size, scale', async () => {
    let seed = 300;
    const tol = { rtol: 1e-3, atol: 1e-4 };
    for (const [B, H, Hkv, L, S, E, Ev] of [[1, 1, 1, 1, 1, 1, 1], [2, 4, 2, 7, 13, 5, 3], [1, 3, 1, 127, 9, 16, 16]]) {
      const inputs = [f([B, H, L, E], seed++), f([B, Hkv, S, E], seed++), f([B, Hkv, S, Ev], seed++)];
      await checkOp(device, { op: 'FlexAttention', domain: 'ai.onnx.preview', opset: 1, inputs, ...tol });
      await checkOp(device, { op: 'FlexAttention', domain: 'ai.onnx.preview', opset: 1, attrs: { scale: float(0.37) }, inputs, ...tol });
    }
  });

  it('DFT: real/complex, forward/inverse, onesided, irfft, dft_length, build-time and run-time axis', async () => {
    let seed = 400;
    const tol = { rtol: 1e-3, atol: 1e-3 };
    for (const [dims, axis] of [[[1, 13, 1], 1], [[2, 7, 3, 2], 1], [[3, 5, 11, 2], 2], [[1, 1, 1], 1]] as [number[], number][]) {
      const x = f(dims, seed++);
      for (const [onesided, inverse] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
        if (onesided && inverse && dims[dims.length - 1] === 1) continue;
        const attrs = { onesided: int(onesided), inverse: int(inverse) };
        await checkOp(device, { op: 'DFT', opset: 17, attrs: { ...attrs, axis: int(axis) }, inputs: [x], ...tol });
        await checkOp(device, { op: 'DFT', opset: 20, attrs, inputs: [x, null, i64(axis - dims.length)], constant: [2], ...tol });
        await declared(device, { op: 'DFT', opset: 20, attrs, inputs: [x, i64(dims[axis] + 2), i64(axis)], ...tol });
      }
    }
  });

  it('STFT: window or frame_length, real and complex signals, odd steps', async () => {
    let seed = 500;
    const tol = { rtol: 1e-3, atol: 1e-3 };
    for (const [B, len, c, step, L] of [[1, 128, 1, 8, 16], [2, 37, 1, 3, 7], [1, 20, 2, 5, 6], [1, 1, 1, 1, 1]]) {
      const sig = f([B, len, c], seed++);
      for (const onesided of c === 2 ? [0] : [0, 1]) {
        await declared(device, { op: 'STFT', opset: 17, attrs: { onesided: int(onesided) }, inputs: [sig, i64(step), f([L], seed++, 0, 1)], ...tol });
        await declared(device, { op: 'STFT', opset: 17, attrs: { onesided: int(onesided) }, inputs: [sig, i64(step), null, i64(L)], ...tol });
      }
    }
  });

  it('Hann, Hamming and Blackman windows: periodic and symmetric, sizes 1-1000, run-time size', async () => {
    for (const op of ['HannWindow', 'HammingWindow', 'BlackmanWindow']) {
      for (const size of [1, 2, 13, 1000]) {
        for (const periodic of [0, 1]) await declared(device, { op, opset: 17, attrs: { periodic: int(periodic) }, inputs: [i64(size)], rtol: 1e-4, atol: 1e-6 });
      }
    }
  });

  it('Einsum: matmul, batch, transpose, diagonal, sums, broadcasting ellipsis, int', async () => {
    let seed = 600;
    const cases: [string, number[][]][] = [
      ['ij,jk->ik', [[7, 13], [13, 3]]], ['bij,bjk->bik', [[3, 5, 7], [3, 7, 2]]], ['ij->ji', [[13, 5]]], ['ii->i', [[7, 7]]],
      ['bii->bi', [[3, 5, 5]]], ['ij->', [[13, 127]]], ['i,i', [[127], [127]]], ['...ij,...jk->...ik', [[2, 1, 3, 4], [5, 4, 2]]],
      ['ij,kl->ijkl', [[3, 2], [1, 5]]], ['abc', [[2, 3, 4]]],
    ];
    for (const [eq, shapes] of cases) {
      await checkOp(device, { op: 'Einsum', opset: 12, attrs: { equation: str(eq) }, inputs: shapes.map((d) => f(d, seed++)), rtol: 1e-4, atol: 1e-4 });
    }
    await checkOp(device, { op: 'Einsum', opset: 12, attrs: { equation: str('ij,jk->ik') }, inputs: [randomTensor('int32', [3, 5], seed++, -9, 9), randomTensor('int32', [5, 4], seed++, -9, 9)] });
  });

  it('Col2Im: 1-3 image axes, strides, dilations, pads, block_shape at run time', async () => {
    let seed = 700;
    // image, block, strides, dilations, pads, channels
    const cases: [number[], number[], number[], number[], number[], number][] = [
      [[5, 5], [2, 2], [1, 1], [1, 1], [0, 0, 0, 0], 1], [[7, 6], [3, 2], [2, 1], [1, 2], [1, 0, 2, 1], 3],
      [[13], [3], [2], [1], [1, 1], 2], [[4, 5, 3], [2, 3, 1], [1, 2, 1], [1, 1, 2], [0, 1, 0, 1, 0, 0], 2],
    ];
    for (const [img, blk, strides, dilations, pads, C] of cases) {
      const r = img.length;
      const nb = img.map((d, a) => Math.floor((d + pads[a] + pads[a + r] - ((blk[a] - 1) * dilations[a] + 1)) / strides[a]) + 1);
      const K = blk.reduce((a, b) => a * b, 1), L = nb.reduce((a, b) => a * b, 1);
      const attrs = { strides: ints(strides), dilations: ints(dilations), pads: ints(pads) };
      const x = f([2, C * K, L], seed++);
      await checkOp(device, { op: 'Col2Im', opset: 18, attrs, inputs: [x, i64s(img), i64s(blk)], constant: [1, 2] });
      await declared(device, { op: 'Col2Im', opset: 18, attrs, inputs: [x, i64s(img), i64s(blk)] });
    }
  });

  it('Dropout in training mode: the seeded stream, run-time and build-time ratio/training_mode, masks', async () => {
    let seed = 800;
    const bool = (v: boolean) => Tensor.from('bool', [], [v ? 1 : 0]);
    const ratio = (v: number) => Tensor.from('float32', [], [v]);
    for (const dims of [[1], [3, 4, 5], [1000], [7, 13]]) {
      const x = f(dims, seed++);
      for (const s of [0, 7, 12345]) {
        for (const [r, t] of [[0.5, true], [0.1, true], [0.75, false], [0, true]] as [number, boolean][]) {
          await checkOp(device, { op: 'Dropout', opset: 22, attrs: { seed: int(s) }, inputs: [x, ratio(r), bool(t)], outputs: 2 });
          await checkOp(device, { op: 'Dropout', opset: 22, attrs: { seed: int(s) }, inputs: [x, ratio(r), bool(t)], constant: [1, 2], outputs: 2 });
        }
      }
      // default ratio (0.5), output only; opset 6 is_test=0 (training, ratio attribute, float mask)
      await checkOp(device, { op: 'Dropout', opset: 22, inputs: [x, null, bool(true)] });
      await checkOp(device, { op: 'Dropout', opset: 6, attrs: { ratio: float(0.3) }, inputs: [x], outputs: 2 });
    }
  });

  it('AffineGrid: 2-D and 3-D, align_corners, odd and unit sizes, size at run time', async () => {
    let seed = 900;
    for (const size of [[2, 3, 5, 7], [1, 1, 1, 13], [3, 2, 4, 1, 5], [1, 1, 2, 3, 1]]) {
      const r = size.length - 2;
      const theta = f([size[0], r, r + 1], seed++);
      for (const ac of [0, 1]) {
        await checkOp(device, { op: 'AffineGrid', opset: 20, attrs: { align_corners: int(ac) }, inputs: [theta, i64s(size)], constant: [1] });
        await declared(device, { op: 'AffineGrid', opset: 20, attrs: { align_corners: int(ac) }, inputs: [theta, i64s(size)] });
      }
    }
  });

  it('ReverseSequence: batch-major and time-major, lengths 0..T, inner dims, int data', async () => {
    let seed = 1000;
    await checkOp(device, { op: 'ReverseSequence', opset: 10, attrs: { batch_axis: int(0), time_axis: int(1) }, inputs: [f([4, 7, 3], seed++), i64s([7, 0, 1, 4])] });
    await checkOp(device, { op: 'ReverseSequence', opset: 10, attrs: { batch_axis: int(1), time_axis: int(0) }, inputs: [f([13, 3, 2, 5], seed++), i64s([13, 2, 1])] });
    await checkOp(device, { op: 'ReverseSequence', opset: 10, inputs: [randomTensor('int32', [5, 2], seed++, -50, 50), i64s([3, 5])] });
  });

  it('TensorScatter: linear and circular, write_indices, axis, prefix dims', async () => {
    let seed = 1100;
    const wi = (v: number[]) => Tensor.from('int64', [v.length], v);
    await checkOp(device, { op: 'TensorScatter', opset: 24, inputs: [f([2, 13, 4], seed++), f([2, 3, 4], seed++), wi([0, 10])] });
    await checkOp(device, { op: 'TensorScatter', opset: 24, attrs: { mode: str('circular') }, inputs: [f([3, 2, 7, 5], seed++), f([3, 2, 4, 5], seed++), wi([5, 0, 6])] });
    await checkOp(device, { op: 'TensorScatter', opset: 24, attrs: { axis: int(1) }, inputs: [f([2, 9, 3], seed++), f([2, 2, 3], seed++)] });
  });

  it('Det: 1x1 to 13x13, batches, singular matrices', async () => {
    let seed = 1200;
    for (const dims of [[1, 1], [3, 3], [2, 5, 5], [13, 13], [4, 2, 2]]) await checkOp(device, { op: 'Det', opset: 11, inputs: [f(dims, seed++)], rtol: 1e-3, atol: 1e-5 });
    await checkOp(device, { op: 'Det', opset: 11, inputs: [Tensor.from('float32', [2, 3, 3], [1, 2, 3, 2, 4, 6, 0, 1, 1, 0, 0, 0, 1, 2, 3, 4, 5, 6])] });
  });

  it('RoiAlign: avg and max, half_pixel and output_half_pixel, adaptive and fixed sampling, rois off the image', async () => {
    const x = f([2, 3, 13, 7], 1300);
    const rois = Tensor.from('float32', [4, 4], [0, 0, 6, 12, 1.5, 2.2, 5.1, 4.9, -2, -1, 3, 3, 4, 9, 30, 20]);
    const bi = Tensor.from('int64', [4], [0, 1, 1, 0]);
    for (const mode of ['avg', 'max']) for (const ctm of ['half_pixel', 'output_half_pixel']) for (const sr of [0, 2]) {
      const attrs = { mode: str(mode), coordinate_transformation_mode: str(ctm), sampling_ratio: int(sr), output_height: int(3), output_width: int(5), spatial_scale: float(0.8) };
      await checkOp(device, { op: 'RoiAlign', opset: 16, attrs, inputs: [x, rois, bi], rtol: 1e-4, atol: 1e-5 });
    }
    await checkOp(device, { op: 'RoiAlign', opset: 10, inputs: [x, rois, bi], rtol: 1e-4, atol: 1e-5 });
  });

  it('MaxUnpool: 1-D to 3-D, strides, pads, explicit output_shape (distinct indices)', async () => {
    let seed = 1400;
    const unique = (count: number, total: number, sd: number) => {
      const r = rng(sd);
      const all = Array.from({ length: total }, (_, i) => i);
      for (let i = total - 1; i > 0; i--) { const j = Math.floor(r() * (i + 1)); [all[i], all[j]] = [all[j], all[i]]; }
      return all.slice(0, count);
    };
    // X dims, kernel, strides, pads, output_shape (or none)
    const cases: [number[], number[], number[], number[], number[] | null][] = [
      [[1, 1, 2, 2], [2, 2], [2, 2], [0, 0, 0, 0], null], [[2, 3, 3, 5], [2, 2], [2, 2], [0, 0, 0, 0], [2, 3, 7, 11]],
      [[1, 2, 13], [3], [2], [1, 1], null], [[1, 1, 2, 3, 2], [2, 2, 2], [2, 2, 2], [0, 0, 0, 0, 0, 0], null],
    ];
    for (const [dims, k, st, pads, os] of cases) {
      const n = dims.length - 2;
      const inferred = [dims[0], dims[1], ...dims.slice(2).map((d, i) => (d - 1) * st[i] + k[i] - pads[i] - pads[i + n])];
      const count = dims.reduce((a, b) => a * b, 1);
      const idx = Tensor.from('int64', dims, unique(count, inferred.reduce((a, b) => a * b, 1), seed++));
      const attrs = { kernel_shape: ints(k), strides: ints(st), pads: ints(pads) };
      const inputs = os ? [f(dims, seed++), idx, i64s(os)] : [f(dims, seed++), idx];
      await checkOp(device, { op: 'MaxUnpool', opset: 11, attrs, inputs, constant: os ? [2] : [] });
    }
  });

  it('MeanVarianceNormalization (any axes) and BatchNormalization in training mode', async () => {
    let seed = 1500;
    const tol = { rtol: 1e-3, atol: 1e-4 };
    for (const [dims, axes] of [[[2, 3, 5, 7], [0, 2, 3]], [[3, 4, 13], [2]], [[2, 3, 4, 5], [1, 3]], [[127, 3], [0, 1]]] as [number[], number[]][]) {
      await checkOp(device, { op: 'MeanVarianceNormalization', opset: 13, attrs: { axes: ints(axes) }, inputs: [f(dims, seed++, -3, 5)], ...tol });
    }
    await checkOp(device, { op: 'MeanVarianceNormalization', opset: 13, inputs: [f([2, 3, 4, 5], seed++)], ...tol });
    for (const dims of [[2, 3, 5, 7], [13, 4], [1, 2, 127]]) {
      const C = dims[1];
      const inputs = [f(dims, seed++, -2, 3), f([C], seed++), f([C], seed++), f([C], seed++), f([C], seed++, 0.5, 2)];
      await checkOp(device, { op: 'BatchNormalization', opset: 15, attrs: { training_mode: int(1), momentum: float(0.8), epsilon: float(1e-3) }, inputs, outputs: 3, ...tol });
      await checkOp(device, { op: 'BatchNormalization', opset: 15, attrs: { training_mode: int(1) }, inputs, outputs: 1, ...tol });
      await checkOp(device, { op: 'BatchNormalization', opset: 9, inputs, outputs: 5, ...tol });
    }
  });

  it('DeformConv: groups, offset groups, strides, pads, dilations, bias and mask', async () => {
    let seed = 1600;
    // N, C, H, W, M, kH, kW, group, og, strides, pads, dilations
    const cases: [number, number, number, number, number, number, number, number, number, number[], number[], number[]][] = [
      [1, 1, 3, 3, 1, 2, 2, 1, 1, [1, 1], [0, 0, 0, 0], [1, 1]], [2, 4, 7, 5, 6, 3, 3, 2, 2, [2, 1], [1, 1, 1, 0], [1, 2]],
      [1, 3, 13, 1, 2, 3, 1, 1, 3, [1, 1], [1, 0, 1, 0], [1, 1]],
    ];
    for (const [N, C, H, W, M, kH, kW, group, og, strides, pads, dilations] of cases) {
      const oH = Math.floor((H + pads[0] + pads[2] - ((kH - 1) * dilations[0] + 1)) / strides[0]) + 1;
      const oW = Math.floor((W + pads[1] + pads[3] - ((kW - 1) * dilations[1] + 1)) / strides[1]) + 1;
      const K = kH * kW;
      const attrs = { group: int(group), offset_group: int(og), strides: ints(strides), pads: ints(pads), dilations: ints(dilations), kernel_shape: ints([kH, kW]) };
      const x = f([N, C, H, W], seed++), w = f([M, C / group, kH, kW], seed++), off = f([N, og * K * 2, oH, oW], seed++, -1.7, 1.7);
      await checkOp(device, { op: 'DeformConv', opset: 19, attrs, inputs: [x, w, off], rtol: 1e-4, atol: 1e-5 });
      await checkOp(device, { op: 'DeformConv', opset: 19, attrs, inputs: [x, w, off, f([M], seed++), f([N, og * K, oH, oW], seed++, 0, 1)], rtol: 1e-4, atol: 1e-5 });
    }
  });

  it('ai.onnx.ml: TreeEnsemble (every mode, aggregate, post transform, set membership), Binarizer, ArrayFeatureExtractor', async () => {
    const ML = 'ai.onnx.ml';
    const tensor = (dtype: 'float32' | 'uint8', v: number[]): Attr => ({ type: 'tensor', value: Tensor.from(dtype, [v.length], v) });
    // two trees over 3 features: tree 0 = nodes 0-2, tree 1 = nodes 3-4 (node 4 a set-membership split)
    const base = {
      n_targets: int(3), tree_roots: ints([0, 3]), nodes_featureids: ints([0, 1, 2, 2, 0]),
      nodes_splits: tensor('float32', [0.1, -0.3, 0.5, 0.2, 0]), nodes_truenodeids: ints([1, 0, 2, 4, 3]), nodes_falsenodeids: ints([2, 1, 3, 0, 4]),
      nodes_trueleafs: ints([0, 1, 1, 0, 1]), nodes_falseleafs: ints([0, 1, 1, 1, 1]), nodes_missing_value_tracks_true: ints([1, 0, 0, 1, 0]),
      leaf_targetids: ints([0, 1, 2, 0, 1, 2]), leaf_weights: tensor('float32', [1.5, -2, 0.25, 3, 0.75, -1]), membership_values: tensor('float32', [0.5, 1, NaN]),
    };
    const x = Tensor.from('float32', [7, 3], [0, 0, 0, 1, -1, 0.4, 0.5, 1, 0.7, -1, -0.5, NaN, NaN, 2, 0.1, 0.1, 0.3, 0.5, 1, 0.2, 0.9]);
    for (const modes of [[0, 1, 2, 3, 6], [4, 5, 0, 1, 6], [2, 3, 5, 4, 6]]) {
      for (const agg of [0, 1, 2, 3]) for (const post of [0, 1, 2, 3]) {
        const attrs = { ...base, nodes_modes: tensor('uint8', modes), aggregate_function: int(agg), post_transform: int(post) };
        await checkOp(device, { op: 'TreeEnsemble', domain: ML, opset: 5, attrs, inputs: [x], rtol: 1e-5, atol: 1e-6 });
      }
    }
    await checkOp(device, { op: 'Binarizer', domain: ML, opset: 1, attrs: { threshold: float(0.25) }, inputs: [f([3, 13], 1700)] });
    await checkOp(device, { op: 'Binarizer', domain: ML, opset: 1, inputs: [randomTensor('int32', [127], 1701, -5, 5)] });
    await checkOp(device, { op: 'ArrayFeatureExtractor', domain: ML, opset: 1, inputs: [f([3, 13], 1702), i64s([12, 0, 5, 5])] });
    await checkOp(device, { op: 'ArrayFeatureExtractor', domain: ML, opset: 1, inputs: [f([7], 1703), i64s([6, 1])] });
  });

  it('Adagrad, Adam and Momentum: several tensors, step 0 and later, attributes', async () => {
    const TR = 'ai.onnx.preview.training';
    let seed = 1800;
    const R = Tensor.from('float32', [], [0.1]);
    const T = (t: number) => Tensor.from('int64', [], [t]);
    const dims = [[13], [3, 5]];
    const group = (lo = -1, hi = 1) => dims.map((d) => f(d, seed++, lo, hi));
    const tol = { rtol: 1e-4, atol: 1e-5 };
    for (const t of [0, 3]) {
      await checkOp(device, { op: 'Adagrad', domain: TR, opset: 1, attrs: { decay_factor: float(0.1), epsilon: float(1e-3), norm_coefficient: float(0.01) }, inputs: [R, T(t), ...group(), ...group(), ...group(0, 1)], outputs: 4, ...tol });
      await checkOp(device, { op: 'Adam', domain: TR, opset: 1, attrs: { alpha: float(0.8), beta: float(0.95), epsilon: float(1e-3), norm_coefficient: float(0.02), norm_coefficient_post: float(0.01) }, inputs: [R, T(t), ...group(), ...group(), ...group(), ...group(0, 1)], outputs: 6, ...tol });
      for (const mode of ['standard', 'nesterov']) {
        await checkOp(device, { op: 'Momentum', domain: TR, opset: 1, attrs: { alpha: float(0.9), beta: float(0.5), norm_coefficient: float(0.01), mode: str(mode) }, inputs: [R, T(t), ...group(), ...group(), ...group()], outputs: 4, ...tol });
      }
    }
  });
});
