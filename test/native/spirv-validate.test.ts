/**
 * native/spirv_validate.cpp (SPIRV-Tools' validator, constant indices in range, the entry point's
 * workgroup size) and native/robustness.cpp (the robustBufferAccess device option).
 */
import { strict as assert } from 'assert';
import { InputError } from '../../src/errors';
import { Device } from '../../src/gpu';
import { ensureDriver, validationWanted } from '../helpers/gpu';

const SPEC_WG = `#version 450
layout(local_size_x_id = 100, local_size_y_id = 101, local_size_z_id = 102) in;
layout(std430, binding = 0) buffer A { float a[]; };
void main() { a[gl_GlobalInvocationID.x] *= 2.0; }`;

const FIXED_WG = `#version 450
layout(local_size_x = 8, local_size_y = 4) in;
layout(std430, binding = 0) buffer A { float a[]; };
layout(push_constant) uniform P { uint p[4]; } pc;
void main() { a[gl_GlobalInvocationID.x] = float(pc.p[2]); }`;

/** Index of the literal word of the OpConstant with value `v` (the first one). */
function constantWord(w: Uint32Array, v: number): number {
  for (let at = 5; at < w.length; at += w[at] >>> 16) if ((w[at] & 0xffff) === 43 && (w[at] >>> 16) === 4 && w[at + 3] === v) return at + 3;
  return -1;
}

describe('SPIR-V validation and robust buffer access (native)', () => {
  before(ensureDriver);

  it('accepts what vkrt compiles and reports its workgroup size (specialization ids or literals)', () => {
    const spec = Device.validateSpirv(Device.compileGlsl(SPEC_WG));
    assert.deepEqual(spec, { valid: true, message: '', workgroup: [100, 101, 102].map((id) => ({ spec: true, id, value: 1 })) });
    const fixed = Device.validateSpirv(Device.compileGlsl(FIXED_WG));
    assert.equal(fixed.valid, true, fixed.message);
    assert.deepEqual(fixed.workgroup!.map((a) => [a.spec, a.value]), [[false, 8], [false, 4], [false, 1]]);
  });

  it('refuses damaged modules with the validator\'s message, and never throws for them', () => {
    const w = Device.compileGlsl(SPEC_WG);
    for (const at of [5, 6, 10, 20, w.length - 2]) {
      const bad = w.slice();
      bad[at] = 0xffffffff;
      const v = Device.validateSpirv(bad);
      assert.equal(v.valid, false, `word ${at}`);
      assert.ok(v.message.length > 0 && !v.message.includes('\n'));
      assert.equal(v.workgroup, null);
    }
    assert.equal(Device.validateSpirv(new Uint32Array([0x07230203, 0x10300, 0, 10, 0])).valid, false);
    assert.throws(() => Device.validateSpirv(w, 'vulkan9' as never), (e: unknown) => e instanceof InputError);
  });

  it('refuses a constant index outside a fixed-size array (valid SPIR-V to the validator)', () => {
    const w = Device.compileGlsl(FIXED_WG);
    const at = constantWord(w, 2);
    assert.ok(at > 0);
    const bad = w.slice();
    bad[at] = 0xffffffff; // also the constant of other uses of 2, if any: still an index out of range
    const v = Device.validateSpirv(bad);
    assert.equal(v.valid, false);
    assert.match(v.message, /constant index 4294967295 into an array of 4 elements/);
  });

  it('opens devices with robust buffer access on request (robustness2 where present), and only then', () => {
    const plain = Device.create({ validation: validationWanted() });
    const robust = Device.create({ validation: validationWanted(), robustBufferAccess: true });
    try {
      assert.equal(plain.info.robustBufferAccess, 'none');
      assert.ok(['core', 'robustness2'].includes(robust.info.robustBufferAccess), robust.info.robustBufferAccess);
      assert.deepEqual(robust.drainValidationMessages(), []);
    } finally {
      plain.dispose();
      robust.dispose();
    }
  });
});
