import { strict as assert } from 'assert';
import { InputError } from '../../src/errors';
import { Device, GlslCompileError } from '../../src/gpu';
import { ensureDriver, useGpu } from '../helpers/gpu';

const KERNEL = `#version 450
#extension GL_GOOGLE_include_directive : require
#include "index.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) writeonly buffer Out { float v[]; };
layout(push_constant) uniform Push { uint n; } pc;
void main() {
  uint i = global_index();
  if (i < pc.n) v[i] = float(i) * SCALE + OFFSET;
}`;

describe('runtime GLSL (libshaderc)', () => {
  before(ensureDriver);

  it('compiles with defines and shaders/common includes to SPIR-V', () => {
    const spirv = Device.compileGlsl(KERNEL, { name: 'gen.comp', defines: { SCALE: '2.0', OFFSET: 0.5 } });
    assert.ok(spirv instanceof Uint32Array);
    assert.equal(spirv[0], 0x07230203);
  });

  it('reports bad GLSL clearly, with the compiler log', () => {
    assert.throws(
      () => Device.compileGlsl('#version 450\nlayout(local_size_x = 1) in;\nvoid main() { undeclared = 1; }', { name: 'broken.comp' }),
      (e: unknown) =>
        e instanceof GlslCompileError &&
        e instanceof InputError &&
        e.shaderName === 'broken.comp' &&
        /broken\.comp:3: error: 'undeclared' : undeclared identifier/.test(e.log) &&
        /GLSL compile of 'broken.comp' failed/.test(e.message),
    );
  });

  it('reports a missing define and a missing include as compile errors', () => {
    assert.throws(() => Device.compileGlsl(KERNEL, { defines: { SCALE: 1 } }), GlslCompileError); // OFFSET missing
    assert.throws(
      () => Device.compileGlsl('#version 450\n#extension GL_GOOGLE_include_directive : require\n#include "nope.glsl"\nvoid main() {}'),
      (e: unknown) => e instanceof GlslCompileError && /nope\.glsl/.test(e.log),
    );
  });

  it('rejects malformed options', () => {
    assert.throws(() => Device.compileGlsl(KERNEL, { defines: { 'BAD NAME': 1 } }), InputError);
    assert.throws(() => Device.compileGlsl(KERNEL, { targetEnv: 'vulkan9' as 'vulkan1.1' }), InputError);
    assert.throws(() => Device.compileGlsl(42 as unknown as string), InputError);
  });

  describe('on a device', () => {
    const gpu = useGpu();
    it('the compiled kernel runs and the defines took effect', async () => {
      const d = gpu.device;
      const spirv = d.compileGlsl(KERNEL, { defines: { SCALE: '3.0', OFFSET: '-1.0' }, targetEnv: 'vulkan1.1' });
      const n = 100;
      const out = d.createBuffer(n * 4, 'readback');
      const p = d.createPipeline({ spirv, name: 'generated', bindingCount: 1, pushConstantSize: 4 });
      const prog = d.createProgram([{ op: 'dispatch', pipeline: p, bindings: [out], push: new Uint32Array([n]), groups: 2 }]);
      await prog.submit();
      assert.deepEqual(out.readFloat32(), Float32Array.from({ length: n }, (_, i) => i * 3 - 1));
      for (const o of [prog, p, out]) o.dispose();
    });
  });
});
