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
import { flagString, parseCommand, type CommandSpec } from './args';
import { BUILD_HELP, BUILD_SWITCHES, BUILD_VALUE_FLAGS, buildConfig, deviceIndex, loadOnnx, parseShapes, readUserFile, resolveModelPath } from './engine-flags';
import { progressLine } from './progress';
import { isStagedEngineFile, readStagedHeader } from '../api/staged';
import { deviceCaps } from '../builder/caps';

const VALUE_FLAGS = [...BUILD_VALUE_FLAGS.filter((f) => f !== 'onnx')];
const SWITCHES = [...BUILD_SWITCHES, 'json'];

export const SPEC: CommandSpec = {
  name: 'inspect',
  summary: "The engine inspector: layers with fused names, kernels, precisions and tensor shapes, I/O bindings and the memory plan, of an engine file (read without a GPU) or an ONNX model (planned first, with exec's build flags).",
  usage: 'inspect FILE [--json] [build flags]',
  valueFlags: VALUE_FLAGS,
  switches: SWITCHES,
  help: { ...BUILD_HELP, json: { description: 'print one JSON object (its `layers` array has one entry per engine layer)' } },
  positionals: { text: 'FILE: an engine file, or an ONNX model (a bare name gets .onnx added when that file exists).', min: 1, max: 1 },
  examples: ['vkrt inspect model.engine', 'vkrt inspect model.onnx --shapes=input:1x3x224x224 --fp16 --json'],
};

/** The inspector's description of an engine file or an ONNX model. */
export function inspectFile(file: string, argv: string[] = []): EngineInfo {
  const args = parseCommand({ ...SPEC, positionals: undefined }, argv) ?? { flags: new Map(), positional: [] };
  const bytes = readUserFile(file, 'inspect');
  if (isEngineFile(bytes)) {
    for (const f of ['fp16', 'int8', 'noFusion', 'paramMode', 'shapes', 'minShapes', 'optShapes', 'maxShapes', 'plugins', 'refit']) {
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
    const progress = progressLine('plan');
    const profiled = new Set(Object.keys(config.profiles?.[0] ?? {}));
    const shapes = Object.fromEntries(Object.entries(parseShapes(flagString(args, 'shapes'))).filter(([n]) => !profiled.has(n)));
    const plan = buildPlan(model, deviceCaps(device, config), { ...config, inputShapes: shapes, progress });
    progress?.({ phase: 'done', fraction: 1 });
    return inspectPlan(plan, { kind: 'onnx', file }, fingerprintOf(device.info));
  } finally {
    device.dispose();
  }
}

/** A staged engine file (src/api/staged.ts): its stages, host fallback nodes and each GPU stage engine's layers. */
function inspectStaged(file: string, bytes: Uint8Array, json: boolean): void {
  const { header, bodyOffset } = readStagedHeader(bytes, file);
  const body = bytes.subarray(bodyOffset);
  const engines = header.engines.map((e) => {
    const contents = readEngineFile(body.subarray(e.offset, e.offset + e.bytes), `${file} (stage ${e.stage})`);
    const { plan } = decodeEngine(contents, undefined, file);
    return { ...e, info: inspectPlan(plan, { kind: 'engine', file: `${path.basename(file)} stage ${e.stage}`, formatVersion: contents.formatVersion, vkrtVersion: contents.vkrtVersion, bytes: contents.bytes }, contents.fingerprint) };
  });
  if (json) {
    console.log(JSON.stringify({ kind: 'staged', hostFallback: header.hostFallback, stages: header.stages, fallback: header.host, engines: engines.map(({ offset: _o, ...e }) => e) }, null, 1));
    return;
  }
  console.log(`Staged engine ${path.basename(file)}: ${header.stages.length} stage(s), ${header.host.length} node(s) on the host (host fallback ${header.hostFallback ? 'on' : 'off'}), ${engines.length} GPU stage engine(s) built`);
  header.stages.forEach((s, k) => {
    console.log(`  stage ${k} (${s.kind}): ${s.nodes.join(', ')}`);
    console.log(`    in: ${s.inputs.join(', ') || '-'}; out: ${s.outputs.join(', ') || '-'}${s.bake ? '; built per value of its small inputs' : ''}`);
    for (const t of s.trims) console.log(`    output '${t.output}' trimmed along axis ${t.axis} to the count the GPU wrote`);
  });
  for (const h of header.host) console.log(`  fallback: ${h.node} (${h.opType}) runs on the host: ${h.reason}`);
  for (const e of engines) {
    console.log(`\nstage ${e.stage} engine for ${e.key}:`);
    for (const line of formatEngineInfo(e.info)) console.log(`  ${line}`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const given = args.positional[0];
  const file = resolveModelPath(given, 'inspect');
  const head = readUserFile(file, 'inspect');
  if (isStagedEngineFile(head)) {
    inspectStaged(file, head, args.flags.has('json'));
    return 0;
  }
  if (args.flags.has('hostFallback')) throw new InputError('inspect plans one GPU engine; host fallback finds its nodes while a staged engine runs: inspect the file of `vkrt exec --onnx=MODEL --hostFallback --saveEngine=FILE`');
  const info = inspectFile(file, argv.filter((a) => a !== given));
  if (args.flags.has('json')) console.log(JSON.stringify(info, null, 1));
  else {
    info.source.file = path.basename(file);
    for (const line of formatEngineInfo(info)) console.log(line);
  }
  return 0;
}
