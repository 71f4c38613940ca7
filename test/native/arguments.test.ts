import { strict as assert } from 'assert';
import { InputError } from '../../src/errors';
import { Command, Device, GpuBuffer, loadSpirv, Pipeline } from '../../src/gpu';
import { useGpu } from '../helpers/gpu';
import { scaleBiasPipeline, scaleBiasPush } from '../helpers/kernels';

/** Throws InputError whose message matches `re`. */
function rejects(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    if (!(e instanceof InputError)) throw e;
    if (!re.test(e.message)) throw new Error(`message ${JSON.stringify(e.message)} does not match ${re}`);
    return true;
  });
}

describe('native argument validation (typed errors, never a crash)', () => {
  const gpu = useGpu();
  let d: Device;
  let buf: GpuBuffer;
  let p: Pipeline;
  before(() => {
    d = gpu.device;
    buf = d.createBuffer(1024);
    p = scaleBiasPipeline(d, 1);
  });
  after(() => {
    buf?.dispose();
    p?.dispose();
  });

  const dispatch = (over: Partial<Extract<Command, { op: 'dispatch' }>> = {}): Command => ({
    op: 'dispatch',
    pipeline: p,
    bindings: [buf, buf],
    push: scaleBiasPush(4, 0),
    groups: 1,
    ...over,
  });

  it('buffer creation: size and kind', () => {
    rejects(() => d.createBuffer(0), /at least 1 byte/);
    rejects(() => d.createBuffer(-1), /non-negative integer/);
    rejects(() => d.createBuffer(1.5), /non-negative integer/);
    rejects(() => d.createBuffer(NaN), /non-negative integer/);
    rejects(() => d.createBuffer(2 ** 50), /exceeds/);
    rejects(() => d.createBuffer(2 ** 60), /up to 2\^53/);
    rejects(() => d.createBuffer(4, 'vram' as 'device'), /kind must be/);
  });

  it('buffer write/read: offsets out of range', () => {
    rejects(() => buf.write(new Uint8Array(8), 1020), /outside the buffer of 1024 bytes/);
    rejects(() => buf.write(new Uint8Array(1), 1025), /outside/);
    rejects(() => buf.read(1000, 25), /outside/);
    rejects(() => buf.read(2 ** 40, 1), /outside/);
    rejects(() => buf.readInto(new Uint8Array(2000)), /outside/);
    rejects(() => buf.write([1, 2, 3] as unknown as Uint8Array), /TypedArray, Buffer or DataView/);
  });

  it('dispatch bindings: wrong count, out-of-range and misaligned sub-ranges', () => {
    rejects(() => d.createProgram([dispatch({ bindings: [buf] })]), /1 bindings given, the pipeline has 2/);
    rejects(() => d.createProgram([dispatch({ bindings: [buf, buf, buf] })]), /3 bindings given/);
    rejects(() => d.createProgram([dispatch({ bindings: [buf, { buffer: buf, offset: 512, range: 1024 }] })]), /binding 1: range .* outside the buffer/);
    rejects(() => d.createProgram([dispatch({ bindings: [buf, { buffer: buf, offset: 2048 }] })]), /outside|non-negative/);
    rejects(() => d.createProgram([dispatch({ bindings: [buf, { buffer: buf, offset: 4, range: 16 }] })]), /minStorageBufferOffsetAlignment/);
    rejects(() => d.createProgram([dispatch({ bindings: [buf, { buffer: buf, offset: 0, range: 0 }] })]), /at least 1 byte/);
    rejects(() => d.createProgram([dispatch({ bindings: [buf, {} as GpuBuffer] })]), /GpuBuffer/);
  });

  it('dispatch push constants: wrong size', () => {
    rejects(() => d.createProgram([dispatch({ push: new Uint8Array(4) })]), /4 bytes of push constants given, the pipeline takes 8/);
    rejects(() => d.createProgram([dispatch({ push: new Uint8Array(12) })]), /12 bytes/);
    rejects(() => d.createProgram([dispatch({ push: undefined })]), /0 bytes of push constants/);
  });

  it('dispatch group counts beyond the device limit', () => {
    const max = d.info.maxComputeWorkGroupCount;
    rejects(() => d.createProgram([dispatch({ groups: [max[0] + 1, 1, 1] })]), /maxComputeWorkGroupCount/);
    rejects(() => d.createProgram([dispatch({ groups: [1, 1, max[2] + 1] })]), /dimension z/);
    rejects(() => d.createProgram([dispatch({ groups: [-1] })]), /non-negative/);
  });

  it('copy, fill and timestamp commands', () => {
    const other = d.createBuffer(64);
    try {
      rejects(() => d.createProgram([{ op: 'copy', src: buf, dst: other, size: 65 }]), /copy destination .* outside/);
      rejects(() => d.createProgram([{ op: 'copy', src: buf, srcOffset: 1020, dst: other, size: 8 }]), /copy source/);
      rejects(() => d.createProgram([{ op: 'copy', src: buf, srcOffset: 0, dst: buf, dstOffset: 8, size: 16 }]), /overlap/);
      rejects(() => d.createProgram([{ op: 'copy', src: buf, dst: other, size: 0 }]), /at least 1 byte/);
      rejects(() => d.createProgram([{ op: 'fill', dst: other, offset: 2, size: 8 }]), /multiples of 4/);
      rejects(() => d.createProgram([{ op: 'fill', dst: other, size: 6 }]), /multiples of 4/);
      rejects(() => d.createProgram([{ op: 'fill', dst: other, offset: 60, size: 8 }]), /outside/);
      if (d.info.timestampValidBits) {
        rejects(() => d.createProgram([{ op: 'timestamp', index: 0 }, { op: 'timestamp', index: 0 }]), /written twice/);
        rejects(() => d.createProgram([{ op: 'timestamp', index: 1 }]), /without gaps/);
        rejects(() => d.createProgram([{ op: 'timestamp', index: 5000 }]), /over 4095/);
      }
      rejects(() => d.createProgram([{ op: 'jump' } as unknown as Command]), /op must be/);
      rejects(() => d.createProgram([null as unknown as Command]), /expected an object/);
      rejects(() => d.createProgram('barrier' as unknown as Command[]), /must be an array/);
    } finally {
      other.dispose();
    }
  });

  it('pipelines: SPIR-V checked against the description', () => {
    const spirv = loadSpirv('native/scale_bias');
    rejects(() => d.createPipeline({ spirv, bindingCount: 1, pushConstantSize: 8 }), /uses binding 1 but the pipeline declares 1 binding/);
    rejects(() => d.createPipeline({ spirv, bindingCount: 2, pushConstantSize: 4 }), /push-constant block is 8 bytes but pushConstantSize is 4/);
    rejects(() => d.createPipeline({ spirv, bindingCount: 2, pushConstantSize: 6 }), /multiple of 4/);
    rejects(() => d.createPipeline({ spirv, bindingCount: 2, pushConstantSize: 4096 }), /maxPushConstantsSize/);
    rejects(
      () => d.createPipeline({ spirv, bindingCount: 2, pushConstantSize: 8, specialization: [{ id: 7, type: 'float', value: 1 }] }),
      /no specialization constant with id 7 \(its ids: 0, 1\)/,
    );
    rejects(
      () => d.createPipeline({ spirv, bindingCount: 2, pushConstantSize: 8, specialization: [{ id: 1, type: 'int', value: 1.5 }] }),
      /not a valid int/,
    );
    rejects(
      () => d.createPipeline({ spirv, bindingCount: 2, pushConstantSize: 8, specialization: [{ id: 1, type: 'float', value: 1 }, { id: 1, type: 'float', value: 2 }] }),
      /given twice/,
    );
    rejects(() => d.createPipeline({ spirv, bindingCount: 2, pushConstantSize: 8, entryPoint: 'other' }), /no GLCompute entry point named 'other'/);
    rejects(() => d.createPipeline({ spirv: new Uint32Array([1, 2, 3, 4, 5, 6]), bindingCount: 0 }), /not a SPIR-V module/);
    rejects(() => d.createPipeline({ spirv: spirv.slice(0, 40), bindingCount: 2, pushConstantSize: 8 }), /malformed SPIR-V|no GLCompute/);
    rejects(() => d.createPipeline({ spirv: new Uint8Array(8) as unknown as Uint32Array, bindingCount: 0 }), /Uint32Array/);
  });

  it('pipelines: uniform buffers and other descriptor sets are refused', () => {
    const ubo = Device.compileGlsl('#version 450\nlayout(local_size_x=1) in;\nlayout(binding=0) uniform U { float a; };\nlayout(std430, binding=1) buffer B { float b[]; };\nvoid main() { b[0] = a; }');
    rejects(() => d.createPipeline({ spirv: ubo, bindingCount: 2 }), /uniform buffer/);
    const set1 = Device.compileGlsl('#version 450\nlayout(local_size_x=1) in;\nlayout(std430, set=1, binding=0) buffer B { float b[]; };\nvoid main() { b[0] = 1.0; }');
    rejects(() => d.createPipeline({ spirv: set1, bindingCount: 1 }), /descriptor set 1/);
  });

  it('submission: bad queue index', async () => {
    const prog = d.createProgram([]);
    await assert.rejects(prog.submit(d.info.queueCount), (e: unknown) => e instanceof InputError && /queue index/.test(e.message));
    await assert.rejects(prog.submit(-1), InputError);
    await prog.submit(0); // still usable afterwards
    prog.dispose();
  });

  it('device creation: bad index', () => {
    rejects(() => Device.create({ index: 99 }), /device index 99 is out of range/);
  });
});
