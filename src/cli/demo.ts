/**
 * `vkrt demo [--out=FILE.onnx] [--size=N] [--batch=N] [--iterations=N]`: the main job on the bundled
 * default. Builds a MobileNetV2-shaped network in code (seeded weights), writes it as ONNX, builds
 * an engine for the default GPU, checks the engine's output against the reference interpreter and
 * reports the build, the memory plan and the latency. Needs no download and no data.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { InputError } from '../errors';
import { Tensor } from '../ir/tensor';
import { mobilenetV2Like } from '../models/nets';
import { parseModel } from '../onnx/parse';
import { serializeModel } from '../onnx/serialize';
import { interpret } from '../ops/interpreter';
import { flagString, parseCommand, type CommandSpec } from './args';
import { run as exec } from './exec';

export const SPEC: CommandSpec = {
  name: 'demo',
  summary: 'The bundled default model: a MobileNetV2-shaped network built in code (seeded weights; nothing is downloaded), written as ONNX, built into an engine, run, and checked against the CPU reference interpreter.',
  usage: 'demo [--size=N] [--batch=N] [--iterations=N] [--out=FILE.onnx] [--device=N]',
  valueFlags: ['out', 'size', 'batch', 'iterations', 'device'],
  switches: [],
  help: {
    out: { value: 'FILE.onnx', description: 'where to write the model (its inputs and outputs go beside it)', default: 'a new folder under the system temp dir' },
    size: { value: 'N', description: 'input height and width', default: '96' },
    batch: { value: 'N', description: 'batch size', default: '1' },
    iterations: { value: 'N', description: 'timed runs', default: '20' },
    device: { value: 'N', description: 'the Vulkan device index (see `vkrt devices`)', default: 'the default device' },
  },
  examples: ['vkrt demo', 'vkrt demo --size=224 --batch=4'],
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const size = Number(flagString(args, 'size') ?? 96);
  const batch = Number(flagString(args, 'batch') ?? 1);
  if (!Number.isInteger(size) || size < 8 || !Number.isInteger(batch) || batch < 1) throw new InputError('--size must be an integer >= 8 and --batch >= 1');
  const out = flagString(args, 'out') ?? path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-demo-')), 'demo-mobilenetv2.onnx');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const model = mobilenetV2Like({ batch, size });
  fs.writeFileSync(out, serializeModel(model));
  console.log(`[I] Wrote the bundled demo model (MobileNetV2-shaped, ${model.graph.nodes.length} nodes, input [${batch},3,${size},${size}]) to ${out}`);
  // the reference check: the engine must agree with the interpreter on a seeded input
  const reparsed = parseModel(fs.readFileSync(out));
  const n = batch * 3 * size * size;
  let s = 7;
  const input = Tensor.from('float32', [batch, 3, size, size], Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) * 2 - 1));
  const ref = interpret(reparsed, { input }).get('logits') as Tensor;
  const npz = path.join(path.dirname(out), 'demo-input.npz');
  const { writeNpz } = await import('../io/npy');
  fs.writeFileSync(npz, writeNpz({ input }));
  const outNpz = path.join(path.dirname(out), 'demo-output.npz');
  const rest = ['--onnx=' + out, '--loadInputs=' + npz, '--exportOutput=' + outNpz, '--iterations=' + (flagString(args, 'iterations') ?? '20'), '--duration=0'];
  const dev = flagString(args, 'device');
  if (dev !== undefined) rest.push('--device=' + dev);
  const code = await exec(rest);
  if (code !== 0) return code;
  const { parseNpz } = await import('../io/npy');
  const got = parseNpz(fs.readFileSync(outNpz)).get('logits')!;
  const e = ref.toNumbers(), g = got.toNumbers();
  let num = 0, den = 0;
  for (let i = 0; i < e.length; i++) { num += (e[i] - g[i]) ** 2; den += e[i] ** 2; }
  const rel = Math.sqrt(num / Math.max(den, 1e-30));
  const ok = rel < 1e-4;
  console.log(`[I] Engine vs reference interpreter: relative L2 error ${rel.toExponential(2)} ${ok ? 'PASSED' : 'FAILED'}`);
  return ok ? 0 : 1;
}
