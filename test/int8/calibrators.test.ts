/** INT8 calibration: thresholds on hand-computed histograms, the cache, the GPU histogram kernel. */
import { strict as assert } from 'assert';
import { entropyDivergences, quantizedExpansion, threshold, int8Scale, klDivergence } from '../../src/builder/quant/calibrators';
import { checkCalibrationTable, modelFingerprint, readCalibrationTable, writeCalibrationTable, CalibrationTable } from '../../src/builder/quant/cache';
import { InputError } from '../../src/errors';
import { Tensor } from '../../src/ir/tensor';
import { Device } from '../../src/gpu';
import { openDevice } from '../helpers/gpu';
import { checkOp } from '../helpers/gpu-op';

const hist = (amax: number, counts: number[]) => ({ amax, counts: Float64Array.from(counts) });

describe('INT8 calibrators', () => {
  it('min-max: the absolute maximum', () => {
    assert.equal(threshold(hist(8, [5, 0, 0, 1]), { algorithm: 'minmax' }), 8);
  });

  it('percentile: the upper edge of the bin where the cumulative share is reached', () => {
    // 10 bins of width 1; 9990 values in bin 0, 9 in bin 4, 1 in bin 9
    const c = new Array<number>(10).fill(0);
    c[0] = 9990; c[4] = 9; c[9] = 1;
    assert.equal(threshold(hist(10, c), { algorithm: 'percentile', percentile: 99.9 }), 1); // 9990 / 10000 = 99.9%
    assert.equal(threshold(hist(10, c), { algorithm: 'percentile', percentile: 99.95 }), 5);
    assert.equal(threshold(hist(10, c), { algorithm: 'percentile', percentile: 100 }), 10);
    assert.throws(() => threshold(hist(10, c), { algorithm: 'percentile', percentile: 0 }), InputError);
  });

  it('entropy: Q merges i bins into levels and spreads each total over its non-empty bins', () => {
    // 6 bins into 2 levels: groups [0..2], [3..5]
    assert.deepEqual([...quantizedExpansion(Float64Array.from([4, 0, 2, 1, 1, 1]), 6, 2)], [3, 0, 3, 1, 1, 1]);
    // 5 bins into 2 levels: 2 bins per group, the last group takes the remainder [2..4]
    assert.deepEqual([...quantizedExpansion(Float64Array.from([1, 3, 0, 6, 3]), 5, 2)], [2, 2, 0, 4.5, 4.5]);
  });

  it('entropy: the KL divergence of every candidate, by hand on a 4-bin histogram and 2 levels', () => {
    const counts = Float64Array.from([6, 2, 1, 1]);
    const d = entropyDivergences(counts, 2);
    // i = 2: P = [6, 2 + (1 + 1)] / 10 = [.6, .4]; Q = [6, 2] merged 1 bin per level = [.75, .25]
    const kl2 = 0.6 * Math.log(0.6 / 0.75) + 0.4 * Math.log(0.4 / 0.25);
    assert.ok(Math.abs(d[2] - kl2) < 1e-12, `${d[2]} vs ${kl2}`);
    // i = 3: P = [6, 2, 2] / 10; Q: groups [0], [1, 2] -> [6, 1.5, 1.5] / 9
    const p3 = [0.6, 0.2, 0.2], q3 = [6 / 9, 1.5 / 9, 1.5 / 9];
    const kl3 = p3.reduce((s, p, k) => s + p * Math.log(p / q3[k]), 0);
    assert.ok(Math.abs(d[3] - kl3) < 1e-12, `${d[3]} vs ${kl3}`);
    // i = 4: P = [6, 2, 1, 1] / 10; Q: groups [0, 1], [2, 3] -> [4, 4, 1, 1] / 10
    const p4 = [0.6, 0.2, 0.1, 0.1], q4 = [0.4, 0.4, 0.1, 0.1];
    const kl4 = p4.reduce((s, p, k) => s + p * Math.log(p / q4[k]), 0);
    assert.ok(Math.abs(d[4] - kl4) < 1e-12, `${d[4]} vs ${kl4}`);
    // on these raw counts the smallest divergence is i = 3 (threshold 3.5) ...
    assert.ok(kl3 < kl2 && kl3 < kl4);
    // ... but the calibrator first gives bin 0 the count of bin 1 (the zero spike of a ReLU says
    // nothing about clipping): [2, 2, 1, 1] has KL 0 at i = 4, threshold min(amax, 4.5) = 4
    assert.equal(threshold(hist(4, [...counts]), { algorithm: 'entropy', levels: 2 }), 4);
    assert.equal(threshold(hist(4, [1000, 2, 1, 1]), { algorithm: 'entropy', levels: 2 }), 4);
    // [2, 2, 1, 1, 0, 0, 0, 1] (amax 8): i = 4..8 by hand; the clipped outlier makes i = 8 cost,
    // i = 4 merges nothing and keeps P's shape but for the tail, so a middle i wins
    const d8 = entropyDivergences(Float64Array.from([2, 2, 1, 1, 0, 0, 0, 1]), 4);
    const p5 = [2, 2, 1, 1, 1].map((v) => v / 7);
    // i = 5: 4 levels of 1 bin, the last level takes bins 3..4: Q = [2, 2, 1, 1, 0] -> expanded over
    // non-empty bins of [1, 0]: [2, 2, 1, 1, 0] / 6
    const q5 = [2, 2, 1, 1, 0].map((v) => v / 6);
    const eps = 1e-4, take = eps / 4; // smoothing: the one empty bin of Q gets eps from the other four
    const q5s = q5.map((v) => (v === 0 ? eps : v - take));
    const kl5 = p5.reduce((s, p, k) => s + p * Math.log(p / q5s[k]), 0);
    assert.ok(Math.abs(d8[5] - kl5) < 1e-12, `${d8[5]} vs ${kl5}`);
  });

  it('entropy: clips a long sparse tail of a Gaussian-like histogram, keeps a uniform one', () => {
    const bins = 2048;
    const gauss = new Float64Array(bins);
    for (let j = 0; j < bins; j++) gauss[j] = Math.round(1e6 * Math.exp(-0.5 * ((j + 0.5) / 200) ** 2));
    gauss[bins - 1] = 1; // one far outlier sets amax
    const t = threshold({ amax: 20.48, counts: gauss }, { algorithm: 'entropy' });
    assert.ok(t > 4 && t < 12, `threshold ${t} should clip the outlier yet keep most of the mass`);
    const uniform = new Float64Array(bins).fill(100);
    const tu = threshold({ amax: 2.048, counts: uniform }, { algorithm: 'entropy' });
    assert.ok(tu > 1.9, `a uniform histogram keeps (almost) its whole range, got ${tu}`);
  });

  it('KL divergence of identical distributions is 0 and smoothing keeps it finite', () => {
    const p = Float64Array.from([0.5, 0.5, 0]);
    assert.equal(klDivergence(p, p), 0);
    assert.ok(Number.isFinite(klDivergence(Float64Array.from([0.5, 0.5]), Float64Array.from([1, 0]))));
  });

  it('scales: threshold / 127, all-zero tensors get 1', () => {
    assert.equal(int8Scale(127), 1);
    assert.equal(int8Scale(0), 1);
  });
});

describe('INT8 calibration cache', () => {
  const tensors = ['input', 'conv1: out', 'relu/1'];
  const table: CalibrationTable = {
    algorithm: 'entropy', vkrt: '0.1.0', model: { name: 'my net', fingerprint: modelFingerprint(tensors) },
    scales: new Map([['input', 0.0078125], ['conv1: out', 0.125], ['relu/1', 1 / 3]]),
  };

  it('round-trips, names with ": " included', () => {
    const text = writeCalibrationTable(table);
    assert.match(text, /^# vkrt INT8 calibration cache\nformat: 1\nvkrt: 0.1.0\nalgorithm: entropy\nmodel: my_net [0-9a-f]{16}\n/);
    assert.match(text, /\nconv1: out: 0.125\n/);
    const back = readCalibrationTable(text);
    assert.deepEqual([...back.scales], [...table.scales]);
    assert.equal(back.algorithm, 'entropy');
    checkCalibrationTable(back, tensors);
  });

  it("refuses another model's cache by name", () => {
    const back = readCalibrationTable(writeCalibrationTable(table));
    assert.throws(() => checkCalibrationTable(back, ['input', 'other'], 'net.cache'),
      (e: Error) => e instanceof InputError && /net\.cache was written for another model/.test(e.message) && /conv1: out/.test(e.message) && /other/.test(e.message));
  });

  it('refuses damaged files with the line', () => {
    assert.throws(() => readCalibrationTable('hello\n', 'c.txt'), /c\.txt is not a vkrt calibration cache/);
    const bad = writeCalibrationTable(table).replace('0.125', '-1');
    assert.throws(() => readCalibrationTable(bad, 'c.txt'), /c\.txt, line \d+: the scale of 'conv1: out' is '-1'/);
  });
});

describe('vkrt.Histogram on the GPU', function () {
  this.timeout(120000);
  let device: Device;
  before(() => { device = openDevice(); });
  afterEach(() => assert.deepEqual(device.drainValidationMessages(), []));
  after(() => device?.dispose());
  const f = (type: 'float' | 'int', value: number) => ({ type, value });

  it('counts |x| exactly like the reference (odd sizes, edges, NaN, Inf, amax 0)', async () => {
    const n = 70007;
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = Math.sin(i * 12.9898) * 4 * (i % 7 === 0 ? 3 : 1);
    v[5] = NaN; v[6] = Infinity; v[7] = -Infinity; v[8] = 4; v[9] = -4; v[10] = 0;
    const x = new Tensor('float32', [7, n / 7], v);
    await checkOp(device, { op: 'Histogram', domain: 'vkrt', opset: 1, attrs: { bins: f('int', 2048), amax: f('float', 8) }, inputs: [x] });
    await checkOp(device, { op: 'Histogram', domain: 'vkrt', opset: 1, attrs: { bins: f('int', 37), amax: f('float', 3.3) }, inputs: [x] });
    await checkOp(device, { op: 'Histogram', domain: 'vkrt', opset: 1, attrs: { bins: f('int', 16), amax: f('float', 0) }, inputs: [new Tensor('float32', [3], Float32Array.from([1, -2, 0]))] });
  });
});
