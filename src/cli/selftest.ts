/**
 * `vkrt selftest [--device=N] [--validation]`: exercises the native layer on one device and prints
 * a PASS/FAIL line per check. Exit code 0 when every check passed.
 */
import { Device, grid1d, loadSpirv } from '../gpu';
import { flagString, parseCommand, type CommandSpec } from './args';

type Check = [name: string, fn: (d: Device) => Promise<string | void>];

function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + seed * 7 + (i >> 8)) & 0xff;
  return b;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;
}

/** y = x * A + B through scale_bias.comp; returns y and the program's timestamp deltas. */
async function scaleBias(d: Device, n: number, a: number, b: number): Promise<{ y: Float32Array; ms: number[] }> {
  const x = d.createBuffer(n * 4, 'upload');
  const y = d.createBuffer(n * 4, 'readback');
  const p = d.createPipeline({
    spirv: loadSpirv('native/scale_bias'),
    name: 'scale_bias',
    bindingCount: 2,
    pushConstantSize: 8,
    specialization: [
      { id: 0, type: 'uint', value: 64 },
      { id: 1, type: 'float', value: a },
    ],
  });
  try {
    x.write(Float32Array.from({ length: n }, (_, i) => i - n / 2));
    const push = new DataView(new ArrayBuffer(8));
    push.setUint32(0, n, true);
    push.setFloat32(4, b, true);
    const prog = d.createProgram([
      { op: 'timestamp', index: 0 },
      { op: 'dispatch', pipeline: p, bindings: [x, y], push, groups: grid1d(n, 64, d.info.maxComputeWorkGroupCount[0]) },
      { op: 'timestamp', index: 1 },
    ]);
    await prog.submit();
    const out = { y: y.readFloat32(0, n), ms: prog.timestampDeltasMs() };
    prog.dispose();
    return out;
  } finally {
    x.dispose();
    y.dispose();
    p.dispose();
  }
}

const CHECKS: Check[] = [
  [
    'buffer round trip (1, 13, 1000003 bytes; device, upload, readback)',
    async (d) => {
      for (const kind of ['device', 'upload', 'readback'] as const)
        for (const n of [1, 13, 1000003]) {
          const buf = d.createBuffer(n, kind);
          const data = pattern(n, n);
          buf.write(data);
          const back = buf.read();
          buf.dispose();
          if (!equalBytes(back, data)) throw new Error(`${kind} buffer of ${n} bytes read back different bytes`);
        }
    },
  ],
  [
    'dispatch with specialization and push constants (y = x*A + B)',
    async (d) => {
      const n = 1000;
      const { y } = await scaleBias(d, n, 2.5, -1);
      for (let i = 0; i < n; i++) {
        const want = Math.fround(Math.fround(i - n / 2) * 2.5 + -1);
        if (y[i] !== want) throw new Error(`y[${i}] = ${y[i]}, expected ${want}`);
      }
    },
  ],
  [
    'timestamps',
    async (d) => {
      if (!d.info.timestampValidBits) return 'skipped: the compute queue family has no timestamps';
      const { ms } = await scaleBias(d, 1 << 16, 1, 0);
      if (ms.length !== 1 || !(ms[0] >= 0)) throw new Error(`bad timestamp deltas ${JSON.stringify(ms)}`);
      return `dispatch of 65536 elements took ${ms[0].toFixed(3)} ms`;
    },
  ],
  [
    'runtime GLSL compile (libshaderc) and pipeline cache blob',
    async (d) => {
      const spirv = d.compileGlsl(
        '#version 450\nlayout(local_size_x = 1) in;\nlayout(std430, binding = 0) buffer B { uint v[]; };\nvoid main() { v[0] = VALUE; }',
        { defines: { VALUE: '42u' }, name: 'selftest.comp' },
      );
      const buf = d.createBuffer(4, 'readback');
      const p = d.createPipeline({ spirv, name: 'selftest', bindingCount: 1 });
      const prog = d.createProgram([{ op: 'dispatch', pipeline: p, bindings: [buf], groups: 1 }]);
      await prog.submit();
      const v = new Uint32Array(buf.read().buffer)[0];
      prog.dispose();
      p.dispose();
      buf.dispose();
      if (v !== 42) throw new Error(`compiled kernel wrote ${v}, expected 42`);
      return `pipeline cache blob ${d.pipelineCacheData().length} bytes`;
    },
  ],
];

export const SPEC: CommandSpec = {
  name: 'selftest',
  summary: 'The native self-test on one device: buffer round trips, a dispatch with specialization and push constants, timestamps, run-time GLSL; one PASS/FAIL line per check, exit 1 on any failure.',
  usage: 'selftest [--device=N] [--validation]',
  valueFlags: ['device'],
  switches: ['validation'],
  help: {
    device: { value: 'N', description: 'the Vulkan device index (see `vkrt devices`)', default: 'the default device' },
    validation: { description: 'run under the Khronos validation layer and fail on its messages' },
  },
  examples: ['vkrt selftest', 'vkrt selftest --device=1 --validation'],
};

export async function run(argv: string[]): Promise<number> {
  const args = parseCommand(SPEC, argv);
  if (!args) return 0;
  const index = flagString(args, 'device');
  const validation = args.flags.has('validation');
  const device = Device.create({ index: index === undefined ? undefined : Number(index), validation });
  console.log(`selftest on device ${device.info.index}: ${device.info.name} (${device.info.type}, ${device.info.driverName} ${device.info.driverVersion})`);
  let failed = 0;
  try {
    for (const [name, fn] of CHECKS) {
      try {
        const note = await fn(device);
        const messages = device.drainValidationMessages();
        if (messages.length) throw new Error(`validation: ${messages.join('\n')}`);
        console.log(`PASS  ${name}${note ? ` (${note})` : ''}`);
      } catch (e) {
        failed++;
        console.log(`FAIL  ${name}: ${(e as Error).message}`);
      }
    }
  } finally {
    device.dispose();
  }
  console.log(failed ? `selftest: ${failed} of ${CHECKS.length} checks FAILED` : `selftest: all ${CHECKS.length} checks passed`);
  return failed ? 1 : 0;
}
