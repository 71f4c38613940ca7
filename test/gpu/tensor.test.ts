/** GPU kernels of the tensor (data movement) family against the reference, both param modes. */
import { strict as assert } from 'assert';
import { registry } from '../../src/ops';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { Attr } from '../../src/ir/graph';
import { openDevice } from '../helpers/gpu';
import { checkOp, ODD_SIZES, OpCase, randomTensor } from '../helpers/gpu-op';

/** checkOp for run-time shape parameters (the model declares its output shapes); exact by default. */
const checkOpDeclared = (device: Device, c: OpCase) => checkOp(device, { ...c, rtol: c.rtol ?? 0, atol: c.atol ?? 0 }, { declareOutputs: true });

const ints = (value: number[]): Attr => ({ type: 'ints', value });
const int = (value: number): Attr => ({ type: 'int', value });
const str = (value: string): Attr => ({ type: 'string', value });
const i64 = (v: number[]) => Tensor.from('int64', [v.length], v);
const exact = { rtol: 0, atol: 0 };

describe('GPU tensor kernels', function () {
  this.timeout(300000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());

  it('views: Reshape, Flatten, Squeeze, Unsqueeze, Identity, Dropout alias their input', async () => {
    for (const op of ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Dropout']) assert.ok(registry.get('', op)?.view, `${op} is a view`);
    const x = randomTensor('float32', [2, 1, 3, 5], 1);
    await checkOp(device, { op: 'Reshape', inputs: [x, i64([3, -1])], constant: [1], ...exact });
    await checkOp(device, { op: 'Flatten', attrs: { axis: int(-1) }, inputs: [x], ...exact });
    await checkOp(device, { op: 'Squeeze', inputs: [x, i64([1])], constant: [1], ...exact });
    await checkOp(device, { op: 'Unsqueeze', inputs: [x, i64([0, -1])], constant: [1], ...exact });
    await checkOp(device, { op: 'Identity', inputs: [randomTensor('int64', [13], 2, -9, 9)], ...exact });
    await checkOp(device, { op: 'Dropout', inputs: [x], ...exact });
    await checkOp(device, { op: 'Dropout', inputs: [x], outputs: 2, ...exact });
  });

  it('Transpose: permutations, odd sizes, ints', async () => {
    const cases: [number[], number[] | undefined][] = [[[13, 127], undefined], [[2, 3, 4], [1, 0, 2]], [[3, 1, 13, 5], [0, 3, 1, 2]], [[2, 3, 2, 3, 2, 3], [5, 3, 1, 4, 2, 0]], [[1000], undefined], [[3, 0, 2], [2, 0, 1]]];
    for (const [k, [dims, perm]] of cases.entries()) {
      await checkOp(device, { op: 'Transpose', attrs: perm ? { perm: ints(perm) } : {}, inputs: [randomTensor('float32', dims, 10 + k)], ...exact });
    }
    await checkOp(device, { op: 'Transpose', attrs: { perm: ints([1, 0]) }, inputs: [randomTensor('int64', [3, 13], 19, -99, 99)], ...exact });
  });

  it('Concat (N inputs, any axis, negative, constant and empty inputs) and Split', async () => {
    await checkOp(device, { op: 'Concat', attrs: { axis: int(1) }, inputs: [randomTensor('float32', [2, 3, 4], 20), randomTensor('float32', [2, 1, 4], 21), randomTensor('float32', [2, 0, 4], 22), randomTensor('float32', [2, 13, 4], 23)], ...exact });
    await checkOp(device, { op: 'Concat', attrs: { axis: int(-1) }, inputs: [randomTensor('int32', [3, 5], 24, -9, 9), randomTensor('int32', [3, 1], 25, -9, 9)], constant: [1], ...exact });
    await checkOp(device, { op: 'Concat', attrs: { axis: int(0) }, inputs: ODD_SIZES.map((n, k) => randomTensor('float32', [n], 26 + k)), ...exact });
    const x = randomTensor('float32', [3, 13, 2], 30);
    await checkOp(device, { op: 'Split', attrs: { axis: int(1) }, inputs: [x, i64([1, 0, 5, 7])], constant: [1], outputs: 4, ...exact });
    await checkOp(device, { op: 'Split', opset: 18, attrs: { axis: int(-2), num_outputs: int(3) }, inputs: [x], outputs: 3, ...exact });
    await checkOp(device, { op: 'Split', attrs: { axis: int(0) }, inputs: [x], outputs: 3, ...exact });
  });

  it('Slice: steps, negative steps and indices, clamping, default axes', async () => {
    const x = randomTensor('float32', [5, 13, 7], 40);
    const cases: number[][][] = [
      [[0, 1], [3, 12], [0, 1], [1, 2]],
      [[-1], [-14], [1], [-1]],
      [[4, 100, 6], [-100, 0, -100], [0, 1, 2], [-2, -3, -1]],
      [[1], [1000], [-1], [3]],
      [[2], [2], [0], [1]],
    ];
    for (const [starts, ends, axes, steps] of cases) {
      await checkOp(device, { op: 'Slice', inputs: [x, i64(starts), i64(ends), i64(axes), i64(steps)], constant: [1, 2, 3, 4], ...exact });
    }
    await checkOp(device, { op: 'Slice', inputs: [randomTensor('int64', [127], 41, -5, 5), i64([3]), i64([-3])], constant: [1, 2], ...exact });
    await checkOp(device, { op: 'Slice', opset: 9, attrs: { starts: ints([1, 0]), ends: ints([3, -1]) }, inputs: [x], ...exact });
  });

  it('Slice, Pad, CenterCropPad and Resize with parameters given at run time (static output dims)', async () => {
    const x = randomTensor('float32', [5, 13, 7], 42);
    await checkOpDeclared(device, { op: 'Slice', inputs: [x, i64([4, 100, 6]), i64([-100, 0, -100]), i64([0, 1, -1]), i64([-2, -3, -1])], ...exact });
    await checkOpDeclared(device, { op: 'Slice', inputs: [x, i64([1, -5]), i64([4, 1000])], ...exact });
    await checkOpDeclared(device, { op: 'Pad', attrs: { mode: str('reflect') }, inputs: [x, i64([0, 3, 2, 1, -4, 5])], ...exact });
    await checkOpDeclared(device, { op: 'Pad', inputs: [x, i64([0, 3, 2, 1, 4, 5]), Tensor.scalar('float32', 2.5)], ...exact });
    await checkOpDeclared(device, { op: 'Pad', attrs: { mode: str('wrap') }, inputs: [x, i64([2, -1, 3, 1]), null, i64([-1, 0])], ...exact });
    await checkOpDeclared(device, { op: 'Pad', attrs: { mode: str('edge') }, inputs: [x, i64([2, 3]), null, i64([1])], constant: [3], ...exact });
    const r = randomTensor('float32', [1, 2, 5, 7], 43);
    for (const [mode, coord] of [['nearest', 'half_pixel'], ['linear', 'align_corners'], ['cubic', 'pytorch_half_pixel'], ['linear', 'half_pixel_symmetric'], ['cubic', 'asymmetric']]) {
      await checkOpDeclared(device, { op: 'Resize', attrs: { mode: str(mode), coordinate_transformation_mode: str(coord) }, inputs: [r, null, Tensor.from('float32', [4], [1, 1, 1.7, 0.6])], rtol: 1e-4, atol: 1e-5 });
    }
    await checkOpDeclared(device, { op: 'Resize', attrs: { mode: str('linear'), coordinate_transformation_mode: str('tf_crop_and_resize'), extrapolation_value: { type: 'float', value: 9 } }, inputs: [r, Tensor.from('float32', [8], [0, 0, 0.1, -0.2, 1, 1, 1.3, 0.8]), null, i64([1, 2, 4, 6])], constant: [3], rtol: 1e-4, atol: 1e-5 });
    await checkOpDeclared(device, { op: 'CenterCropPad', inputs: [x, i64([3, 16])], constant: [1], attrs: { axes: ints([0, -1]) }, ...exact });
  });

  it('Expand and Tile', async () => {
    await checkOp(device, { op: 'Expand', inputs: [randomTensor('float32', [3, 1], 50), i64([2, 1, 13])], constant: [1], ...exact });
    await checkOp(device, { op: 'Expand', inputs: [randomTensor('int32', [1], 51, -9, 9), i64([127])], constant: [1], ...exact });
    await checkOp(device, { op: 'Expand', inputs: [randomTensor('float32', [2, 1, 3], 52), i64([1, 1])], constant: [1], ...exact });
    await checkOp(device, { op: 'Tile', inputs: [randomTensor('float32', [2, 3, 5], 53), i64([3, 1, 2])], constant: [1], ...exact });
    await checkOp(device, { op: 'Tile', inputs: [randomTensor('int64', [13], 54, -9, 9), i64([0])], constant: [1], ...exact });
    await checkOp(device, { op: 'Tile', inputs: [randomTensor('float32', [1, 1, 1, 1, 1, 3], 55), i64([2, 3, 1, 2, 1, 5])], constant: [1], ...exact });
  });

  it('Pad: constant, reflect, edge, wrap, negative pads, axes, opset 2', async () => {
    const x = randomTensor('float32', [2, 5, 7], 60);
    for (const mode of ['constant', 'reflect', 'edge', 'wrap']) {
      await checkOp(device, { op: 'Pad', attrs: { mode: str(mode) }, inputs: [x, i64([0, 3, 2, 1, 4, 13]), Tensor.scalar('float32', 1.5)], constant: [1, 2], ...exact });
      await checkOp(device, { op: 'Pad', attrs: { mode: str(mode) }, inputs: [x, i64([1, -2, 0, 0, 1, -3])], constant: [1], ...exact });
    }
    await checkOp(device, { op: 'Pad', inputs: [randomTensor('int32', [3, 4], 61, -9, 9), i64([1, 2]), Tensor.scalar('int32', 7), i64([-1])], constant: [1, 2, 3], ...exact });
    await checkOp(device, { op: 'Pad', opset: 2, attrs: { pads: ints([0, 1, 1, 0]), value: { type: 'float', value: -1 } }, inputs: [randomTensor('float32', [3, 4], 62)], ...exact });
  });

  it('Gather (any axis, negative indices), GatherElements, GatherND', async () => {
    const x = randomTensor('float32', [4, 13, 3], 70);
    await checkOp(device, { op: 'Gather', attrs: { axis: int(1) }, inputs: [x, Tensor.from('int64', [2, 3], [0, -1, 12, 5, -13, 3])], ...exact });
    await checkOp(device, { op: 'Gather', attrs: { axis: int(-1) }, inputs: [x, Tensor.scalar('int64', -2)], ...exact });
    await checkOp(device, { op: 'Gather', inputs: [randomTensor('float32', [127, 5], 71), randomTensor('int32', [1000], 72, -127, 126)], constant: [0], ...exact });
    await checkOp(device, { op: 'GatherElements', attrs: { axis: int(1) }, inputs: [x, randomTensor('int64', [3, 5, 2], 73, -13, 12)], ...exact });
    await checkOp(device, { op: 'GatherElements', attrs: { axis: int(-3) }, inputs: [x, randomTensor('int32', [7, 13, 3], 74, -4, 3)], ...exact });
    await checkOp(device, { op: 'GatherND', inputs: [x, Tensor.from('int64', [3, 2], [0, 1, -1, 12, 2, 5])], ...exact });
    await checkOp(device, { op: 'GatherND', attrs: { batch_dims: int(1) }, inputs: [x, Tensor.from('int64', [4, 2, 1], [0, 1, 2, 3, 4, 5, 6, -7])], ...exact });
    await checkOp(device, { op: 'GatherND', inputs: [x, Tensor.from('int64', [1, 3], [3, 12, 2])], ...exact });
  });

  it('ScatterElements and ScatterND (reductions, duplicates in order)', async () => {
    const data = randomTensor('float32', [4, 5, 3], 80);
    const upd = randomTensor('float32', [4, 2, 3], 81);
    const ind = randomTensor('int64', [4, 2, 3], 82, -5, 4);
    for (const reduction of ['none', 'add', 'mul', 'max', 'min']) {
      await checkOp(device, { op: 'ScatterElements', attrs: { axis: int(1), reduction: str(reduction) }, inputs: [data, ind, upd] });
    }
    await checkOp(device, { op: 'ScatterElements', attrs: { axis: int(-1), reduction: str('add') }, inputs: [randomTensor('int32', [3, 13], 83, -9, 9), randomTensor('int64', [2, 20], 84, 0, 12), randomTensor('int32', [2, 20], 85, -9, 9)], ...exact });
    const ndInd = Tensor.from('int64', [4, 2], [0, 1, 3, -1, 0, 1, 2, 2]);
    for (const reduction of ['add', 'mul', 'max', 'min']) {
      await checkOp(device, { op: 'ScatterND', attrs: { reduction: str(reduction) }, inputs: [data, ndInd, randomTensor('float32', [4, 3], 86)] });
    }
    await checkOp(device, { op: 'ScatterND', inputs: [data, Tensor.from('int64', [2, 1], [3, -4]), randomTensor('float32', [2, 5, 3], 87)], ...exact });
    await checkOp(device, { op: 'ScatterND', inputs: [randomTensor('int64', [127], 88, -9, 9), Tensor.from('int64', [3, 1], [0, 126, 13]), randomTensor('int64', [3], 89, -9, 9)], ...exact });
  });

  it('DepthToSpace (DCR, CRD) and SpaceToDepth', async () => {
    const x = randomTensor('float32', [2, 12, 3, 5], 90);
    await checkOp(device, { op: 'DepthToSpace', attrs: { blocksize: int(2), mode: str('DCR') }, inputs: [x], ...exact });
    await checkOp(device, { op: 'DepthToSpace', attrs: { blocksize: int(2), mode: str('CRD') }, inputs: [x], ...exact });
    await checkOp(device, { op: 'SpaceToDepth', attrs: { blocksize: int(3) }, inputs: [randomTensor('float32', [1, 2, 6, 9], 91)], ...exact });
  });

  it('Trilu, OneHot, EyeLike', async () => {
    const x = randomTensor('float32', [2, 5, 13], 100);
    for (const upper of [0, 1]) {
      await checkOp(device, { op: 'Trilu', attrs: { upper: int(upper) }, inputs: [x], ...exact });
      await checkOp(device, { op: 'Trilu', attrs: { upper: int(upper) }, inputs: [x, Tensor.scalar('int64', -2)], ...exact });
      await checkOp(device, { op: 'Trilu', attrs: { upper: int(upper) }, inputs: [randomTensor('int32', [13, 3], 101, -9, 9), Tensor.scalar('int64', 1)], constant: [1], ...exact });
    }
    await checkOp(device, { op: 'OneHot', inputs: [randomTensor('int64', [3, 5], 102, -7, 7), Tensor.scalar('int64', 7), Tensor.from('float32', [2], [-1, 3])], constant: [1], ...exact });
    await checkOp(device, { op: 'OneHot', attrs: { axis: int(0) }, inputs: [randomTensor('float32', [13], 103, -3, 3), Tensor.scalar('int32', 4), Tensor.from('int32', [2], [0, 5])], constant: [1], ...exact });
    await checkOp(device, { op: 'EyeLike', attrs: { k: int(2) }, inputs: [randomTensor('float32', [5, 13], 104)], ...exact });
    await checkOp(device, { op: 'EyeLike', attrs: { k: int(-1), dtype: int(7) }, inputs: [randomTensor('float32', [13, 3], 105)], ...exact });
  });

  it('Resize: nearest modes, linear, cubic, coordinate modes, sizes, tf_crop_and_resize', async () => {
    const x = randomTensor('float32', [1, 2, 5, 7], 110);
    const scales = Tensor.from('float32', [4], [1, 1, 1.7, 0.6]);
    const coords = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'half_pixel_symmetric'];
    for (const coord of coords) {
      for (const mode of ['nearest', 'linear', 'cubic']) {
        await checkOp(device, { op: 'Resize', attrs: { mode: str(mode), coordinate_transformation_mode: str(coord) }, inputs: [x, null, scales], constant: [2] });
      }
    }
    for (const nm of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
      await checkOp(device, { op: 'Resize', attrs: { nearest_mode: str(nm) }, inputs: [randomTensor('int64', [1, 1, 3, 4], 111, -9, 9), null, null, i64([1, 1, 7, 3])], constant: [3], ...exact });
    }
    await checkOp(device, { op: 'Resize', attrs: { mode: str('cubic'), exclude_outside: int(1), cubic_coeff_a: { type: 'float', value: -0.5 } }, inputs: [x, null, null, i64([1, 2, 13, 4])], constant: [3] });
    await checkOp(device, { op: 'Resize', attrs: { mode: str('linear'), coordinate_transformation_mode: str('tf_crop_and_resize'), extrapolation_value: { type: 'float', value: 9 } }, inputs: [x, Tensor.from('float32', [8], [0, 0, 0.1, -0.2, 1, 1, 1.3, 0.8]), null, i64([1, 2, 4, 6])], constant: [1, 3] });
    await checkOp(device, { op: 'Resize', attrs: { mode: str('linear'), antialias: int(1) }, inputs: [x, null, Tensor.from('float32', [4], [1, 1, 0.5, 0.4])], constant: [2] });
    await checkOp(device, { op: 'Resize', attrs: { mode: str('linear'), axes: ints([-1]), keep_aspect_ratio_policy: str('not_larger') }, inputs: [x, null, null, i64([13])], constant: [3] });
    await checkOp(device, { op: 'Upsample', opset: 7, attrs: { mode: str('linear'), scales: { type: 'floats', value: [1, 1, 2, 3] } }, inputs: [x] });
  });
  it('Resize: run-time sizes under keep_aspect_ratio_policy not_larger / not_smaller (the scale derived on the GPU)', async () => {
    const x = randomTensor('float32', [1, 2, 5, 7], 120);
    for (const policy of ['not_larger', 'not_smaller']) {
      for (const sizes of [[3, 3], [13, 9], [4, 20], [1, 1]]) {
        for (const mode of ['nearest', 'linear', 'cubic']) {
          await checkOp(device, { op: 'Resize', opset: 19, attrs: { mode: str(mode), axes: ints([2, 3]), keep_aspect_ratio_policy: str(policy) }, inputs: [x, null, null, i64(sizes)], rtol: 1e-4, atol: 1e-5 }, { declareOutputs: true });
        }
      }
    }
  });
});
