/**
 * `vkrt quantize --onnx=M [--calib=DIR|FILE.npz|CACHE] [--algo=entropy|percentile|minmax]
 * [--out=M.int8.onnx] [--calibCache=FILE]`: writes the Q/DQ (explicitly quantized) model of a float
 * model — int8 weights per output channel, QuantizeLinear/DequantizeLinear on the activations that
 * Conv/Gemm/MatMul/Add read, scales from calibration — which onnxruntime loads too, and the
 * calibration cache (M.int8.onnx.cache unless --calibCache says where). `vkrt exec --int8` builds
 * integer layers from it.
 */
import * as fs from 'fs';
import { InputError } from '../errors';
import { Device } from '../gpu/device';
import { serializeModel } from '../onnx/serialize';
import { buildEngineAsync } from '../api/build';
import { quantizeModel } from '../api/calibrate';
import { flagString, parseCommand, type CommandSpec } from './args';
import { CALIB_HELP, CALIB_VALUE_FLAGS, calibratorFromFlags } from './calib';
import { BUILD_HELP, deviceIndex, loadOnnx, parseShapes } from './engine-flags';

export const SPEC: CommandSpec = {
  name: 'quantize',
  summary: 'Write the Q/DQ (int8) model of a float ONNX model from calibration data, and its calibration cache; onnxruntime runs it too, `vkrt exec --int8` builds integer layers from it.',
  usage: 'quantize --onnx=FILE [--calib=DIR|FILE.npz|CACHE] [--algo=entropy|percentile|minmax] [--out=FILE]',
  valueFlags: ['onnx', 'out', 'algo', 'shapes', 'device', ...CALIB_VALUE_FLAGS],
  switches: [],
  help: {
    onnx: BUILD_HELP.onnx,
    shapes: BUILD_HELP.shapes,
    device: BUILD_HELP.device,
    out: { value: 'FILE', description: 'the Q/DQ model to write', default: 'the model\'s name with .int8.onnx' },
    algo: { value: 'entropy|percentile|minmax', description: 'calibration algorithm (same as --calibAlgo)', default: 'entropy' },
    ...CALIB_HELP,
    calibCache: { value: 'FILE', description: 'where the calibration cache goes', default: 'the output file with .cache added' },
  },
  examples: [
    'vkrt quantize --onnx=mnist.onnx --calib=digits.npz --out=mnist.int8.onnx',
    'vkrt quantize --onnx=resnet50.onnx --calib=calib/ --algo=percentile --percentile=99.9',
  ],
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const onnx = flagString(args, 'onnx');
  if (!onnx) throw new InputError('usage: vkrt quantize --onnx=FILE [--calib=...] [--out=FILE]; see `vkrt quantize --help`');
  const algo = flagString(args, 'algo');
  if (algo !== undefined) {
    if (args.flags.has('calibAlgo') && flagString(args, 'calibAlgo') !== algo) throw new InputError('--algo and --calibAlgo disagree; give one');
    args.flags.set('calibAlgo', algo);
  }
  const out = flagString(args, 'out') ?? onnx.replace(/(\.onnx)?$/, '.int8.onnx');
  if (!args.flags.has('calibCache')) args.flags.set('calibCache', `${out}.cache`);
  const shapes = parseShapes(flagString(args, 'shapes'));
  const { model } = loadOnnx(onnx);
  const calibrator = calibratorFromFlags(args, model, shapes, (l) => console.log(`[W] ${l}`));
  const device = Device.create({ index: deviceIndex(args) });
  try {
    const t0 = performance.now();
    const { model: q, calibration } = await quantizeModel(model, calibrator, {
      device, log: (l) => console.log(`[I] ${l}`),
      onProgress: (p) => { if (process.stderr.isTTY) process.stderr.write(`\r[calibration] pass ${p.pass} batch ${p.batch}${p.batches ? `/${p.batches}` : ''}${p.etaMs !== undefined ? ` ETA ${(p.etaMs / 1000).toFixed(1)} s` : ''}   `); },
      build: (m, o) => buildEngineAsync(m, { ...o, device, worker: false }),
    });
    if (process.stderr.isTTY) process.stderr.write('\n');
    const bytes = serializeModel(q);
    try {
      fs.writeFileSync(out, bytes);
    } catch (e) {
      throw new InputError(`--out: cannot write ${out} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    console.log(`[I] ${calibration.fromCache ? 'Scales read from the cache' : `Calibrated (${calibration.algorithm})`}: ${calibration.scales.size} tensors; cache ${flagString(args, 'calibCache')}`);
    console.log(`[I] Wrote ${out} (${bytes.length} bytes, ${q.graph.nodes.length} nodes) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    return 0;
  } finally {
    device.dispose();
  }
}
