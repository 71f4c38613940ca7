/**
 * `vkrt inspect FILE [--json]` (TensorRT's engine inspector): the layers of an engine with their
 * fused names, kernels, precisions and tensor shapes, the I/O bindings and the memory plan.
 * FILE is an engine file (read without a GPU: no device is opened) or an ONNX model, planned
 * first for the device with exec's build flags (--shapes, --fp16, --int8, --noFusion,
 * --paramMode, --device). `--json` prints one JSON object whose `layers` array has one entry
 * per engine layer.
 */
import * as path from 'path';
import { EngineFileError, InputError, VkrtError } from '../errors';
import { buildPlan } from '../builder/builder';
import { Device } from '../gpu/device';
import { decodeEngine } from '../runtime/engine';
import { fingerprintOf, isEngineFile, readEngineFile } from '../runtime/engine-file';
import { EngineInfo, formatEngineInfo, inspectPlan } from '../runtime/inspector';
import { flagString, parseArgs } from './args';
import { BUILD_SWITCHES, BUILD_VALUE_FLAGS, buildConfig, checkFlags, deviceIndex, loadOnnx, parseShapes, readUserFile } from './engine-flags';
import { deviceCaps } from '../builder/caps';

const VALUE_FLAGS = [...BUILD_VALUE_FLAGS.filter((f) => f !== 'onnx')];
const SWITCHES = [...BUILD_SWITCHES, 'json'];

/** The inspector's description of an engine file or an ONNX model. */
export function inspectFile(file: string, argv: string[] = []): EngineInfo {
  const args = parseArgs(argv, VALUE_FLAGS);
  const bytes = readUserFile(file, 'inspect');
  if (isEngineFile(bytes)) {
    for (const f of ['fp16', 'int8', 'noFusion', 'paramMode', 'shapes', 'plugins', 'refit']) {
      if (args.flags.has(f)) throw new InputError(`--${f} is a build flag; ${file} is an engine file, built already`);
    }
    const contents = readEngineFile(bytes, file);
    // No device: the plan is checked without device limits, and nothing touches Vulkan.
    const { plan } = decodeEngine(contents, undefined, file);
    // The file passed its checksum and the loader's checks, but the inspector reads fields the
    // loader does not need (names, op types, ...): a malformed one is a damaged file, not a crash.
    try {
      const info = inspectPlan(plan, { kind: 'engine', file, formatVersion: contents.formatVersion, vkrtVersion: contents.vkrtVersion, bytes: contents.bytes }, contents.fingerprint);
      formatEngineInfo(info);
      JSON.stringify(info);
      return info;
    } catch (e) {
      if (e instanceof VkrtError) throw e;
      throw new EngineFileError('corrupt', `its plan does not describe an engine the inspector can show (${(e as Error)?.message ?? e})`, file);
    }
  }
  const config = buildConfig(args);
  const device = Device.create({ index: deviceIndex(args) });
  try {
    const { model } = loadOnnx(file);
    const plan = buildPlan(model, deviceCaps(device, config), { ...config, inputShapes: parseShapes(flagString(args, 'shapes')) });
    return inspectPlan(plan, { kind: 'onnx', file }, fingerprintOf(device.info));
  } finally {
    device.dispose();
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseArgs(argv, VALUE_FLAGS);
  checkFlags(args, 'inspect', VALUE_FLAGS, SWITCHES);
  if (args.positional.length !== 1) throw new InputError('usage: vkrt inspect FILE [--json] (FILE: an engine file, or an ONNX model with exec\'s build flags)');
  const file = args.positional[0];
  const info = inspectFile(file, argv.filter((a) => a !== file));
  if (args.flags.has('json')) console.log(JSON.stringify(info, null, 1));
  else {
    info.source.file = path.basename(file);
    for (const line of formatEngineInfo(info)) console.log(line);
  }
  return 0;
}
