/**
 * The NV -> KHR cooperative-matrix rewrite (src/builder/spirv/coopmat-khr.ts), checked word by word
 * on modules glslang compiles: the GEMM kernel's matrix-unit variants and small shaders that probe
 * the corners (a constant feeding two uses, a fragment used as A and B, a matrix crossing a call).
 * SPIRV-Tools 2023.1 cannot validate KHR modules (it rejects the CooperativeMatrixKHR capability),
 * so the checks here are structural: no NV word left, every id defined once and before the types
 * and constants that use it, every matrix operand typed with the use its instruction needs.
 */
import { strict as assert } from 'assert';
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildPlan } from '../../src/builder/builder';
import { preferKernel } from '../../src/builder/selection';
import { compileDispatch, compileShaders } from '../../src/builder/shaders';
import { coopMatNvToKhr, parseSpirv, usesNvCoopMat } from '../../src/builder/spirv/coopmat-khr';
import { UnsupportedError } from '../../src/errors';
import { Device } from '../../src/gpu';
import { COOPMAT_CASES } from '../fp16/coopmat-cases';
import { INT8_CASES } from '../int8/cases';
import { singleNodeModel } from '../helpers/gpu-op';

const OP = { TypeInt: 21, TypeFloat: 22, Constant: 43, TypeCoopMatKHR: 4456, LoadKHR: 4457, StoreKHR: 4458, MulAddKHR: 4459, TypeCoopMatNV: 5358 };
const NV_OPS = [5358, 5359, 5360, 5361, 5362];

interface Inst { op: number; w: number[] }

/** What the checks need of a module: instructions, definitions, matrix types, constants. */
function inspect(words: Uint32Array) {
  const { header, insts } = parseSpirv(words);
  const def = new Map<number, number>(); // id -> instruction index
  const typeOf = new Map<number, number>();
  const consts = new Map<number, number>(); // id -> value (32-bit OpConstant)
  const mats = new Map<number, { comp: number; rows: number; cols: number; use: number }>();
  const floatWidth = new Map<number, number>();
  const TYPE = (op: number) => op >= 19 && op <= 39 || op === 4456 || op === 5358;
  insts.forEach((x, i) => {
    if (TYPE(x.op)) {
      assert.ok(!def.has(x.w[1]), `%${x.w[1]} defined twice`);
      def.set(x.w[1], i);
    } else if (x.w.length >= 3 && def.has(x.w[1]) && TYPE(insts[def.get(x.w[1])!].op) && ![5, 6, 71, 72, 15, 16].includes(x.op)) {
      assert.ok(!def.has(x.w[2]), `%${x.w[2]} defined twice (opcode ${x.op})`);
      def.set(x.w[2], i);
      typeOf.set(x.w[2], x.w[1]);
    }
    if (x.op === OP.TypeFloat) floatWidth.set(x.w[1], x.w[2]);
    if (x.op === OP.Constant && x.w.length === 4) consts.set(x.w[2], x.w[3]);
    if (x.op === OP.TypeCoopMatKHR) mats.set(x.w[1], { comp: x.w[2], rows: consts.get(x.w[4])!, cols: consts.get(x.w[5])!, use: consts.get(x.w[6])! });
  });
  return { header, insts, def, typeOf, consts, mats, floatWidth };
}

/** Structural checks every rewritten module must pass; returns the inspection. */
function checkKhr(words: Uint32Array, nv: Uint32Array) {
  const m = inspect(words);
  assert.ok(!m.insts.some((x) => NV_OPS.includes(x.op)), 'an NV opcode is left');
  assert.ok(m.insts.some((x) => x.op === 17 && x.w[1] === 6022), 'no CooperativeMatrixKHR capability');
  assert.ok(!m.insts.some((x) => x.op === 17 && x.w[1] === 5357), 'the NV capability is left');
  const exts = m.insts.filter((x) => x.op === 10).map((x) => Buffer.from(new Uint32Array(x.w.slice(1)).buffer).toString('utf8').replace(/\0+$/, ''));
  assert.ok(exts.includes('SPV_KHR_cooperative_matrix') && !exts.includes('SPV_NV_cooperative_matrix'), exts.join(','));
  // ids below the bound; types and constants only refer to ids declared before them
  let maxId = 0;
  for (const id of m.def.keys()) maxId = Math.max(maxId, id);
  assert.ok(maxId < m.header[3], `id ${maxId} >= bound ${m.header[3]}`);
  m.insts.forEach((x, i) => {
    if (x.op === OP.TypeCoopMatKHR) for (const ref of x.w.slice(2)) assert.ok((m.def.get(ref) ?? Infinity) < i, `matrix type %${x.w[1]} uses %${ref} before its declaration`);
    if (x.op === 32) assert.ok((m.def.get(x.w[3]) ?? Infinity) < i, `pointer type %${x.w[1]} before its pointee`);
    if (x.op === 28) assert.ok((m.def.get(x.w[2]) ?? Infinity) < i, `array type %${x.w[1]} before its element`);
  });
  // the same number of matrix operations as the NV module
  const count = (insts: Inst[], op: number) => insts.filter((x) => x.op === op).length;
  const n = parseSpirv(nv).insts;
  assert.equal(count(m.insts, OP.MulAddKHR), count(n, 5361));
  assert.equal(count(m.insts, OP.LoadKHR), count(n, 5359));
  assert.equal(count(m.insts, OP.StoreKHR), count(n, 5360));
  // every MulAdd: A is M x K with use A, B K x N with use B, C and the result M x N accumulators
  const matOf = (id: number) => m.mats.get(m.typeOf.get(id)!)!;
  for (const x of m.insts.filter((i) => i.op === OP.MulAddKHR)) {
    const r = m.mats.get(x.w[1])!, a = matOf(x.w[3]), b = matOf(x.w[4]), c = matOf(x.w[5]);
    assert.ok(r && a && b && c, 'MulAdd operands are not KHR matrices');
    assert.deepEqual([a.use, b.use, c.use, r.use], [0, 1, 2, 2]);
    assert.equal(a.rows, r.rows);
    assert.equal(b.cols, r.cols);
    assert.equal(a.cols, b.rows);
    assert.deepEqual([c.rows, c.cols], [r.rows, r.cols]);
    assert.equal(m.typeOf.get(x.w[5]), x.w[1], 'C and the result differ in type');
  }
  // loads and stores: a layout constant (RowMajorKHR 0 or ColumnMajorKHR 1), then the stride
  const layouts: number[] = [];
  for (const x of m.insts.filter((i) => i.op === OP.LoadKHR || i.op === OP.StoreKHR)) {
    const at = x.op === OP.LoadKHR ? 4 : 3;
    layouts.push(m.consts.get(x.w[at])!);
    assert.ok(m.consts.has(x.w[at + 1]) || m.def.has(x.w[at + 1]), 'stride is not an id');
  }
  assert.ok(layouts.every((l) => l === 0 || l === 1), `layouts ${layouts.join(',')}`);
  return { ...m, layouts };
}

const GEMM_DEFINES = {
  VKRT_F16: 1, GEMM_COOPMAT: 1, CM_M: 16, CM_N: 16, CM_K: 16,
  GEMM_CM_BM: 64, GEMM_CM_BN: 64, GEMM_CM_BK: 32, GEMM_CM_WM: 2, GEMM_CM_WN: 2,
};
const gemm = (defines: Record<string, number>, mode: 'spec' | 'push' = 'spec') =>
  compileDispatch({ shader: 'nn/gemm', defines: { ...GEMM_DEFINES, ...defines }, params: new Array<number>(23).fill(0) }, mode);

function glsl(body: string): string {
  return `#version 450
#extension GL_NV_cooperative_matrix : require
#extension GL_KHR_memory_scope_semantics : require
#extension GL_EXT_shader_16bit_storage : require
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : require
layout(local_size_x = 32) in;
layout(std430, binding = 0) buffer Buf { float16_t h[]; float f[]; } buf;
#define HM fcoopmatNV<16, gl_ScopeSubgroup, 16, 16>
#define FM fcoopmatNV<32, gl_ScopeSubgroup, 16, 16>
void main() {
${body}
}`;
}
const compile = (src: string) => Device.compileGlsl(src, { name: 'probe.comp' });

describe('cooperative matrices: the NV -> KHR SPIR-V rewrite', function () {
  this.timeout(60000);

  for (const [name, extra] of [
    ['64x64 tile, bias, spec params', { HAS_C: 1 }],
    ['128x128 tile, transposed A and B staging', { GEMM_CM_BM: 128, GEMM_CM_BN: 128, GEMM_CM_WN: 4, GEMM_CM_A_MFAST: 1, GEMM_CM_B_KFAST: 1 }],
  ] as const) {
    it(`rewrites the GEMM kernel (${name}) in both param modes`, () => {
      for (const mode of ['spec', 'push'] as const) {
        const nv = gemm({ VKRT_COOPMAT_NV: 1, ...extra }, mode);
        assert.ok(usesNvCoopMat(nv));
        const khr = gemm({ VKRT_COOPMAT_KHR: 1, ...extra }, mode);
        assert.ok(!usesNvCoopMat(khr));
        const m = checkKhr(khr, nv);
        assert.ok(m.layouts.length && m.layouts.every((l) => l === 0), 'the GEMM tiles are row-major');
        // one f32 accumulator type and f16 A and B types, 16 x 16
        const uses = [...m.mats.values()].map((t) => `${m.floatWidth.get(t.comp)}:${t.use}:${t.rows}x${t.cols}`).sort();
        assert.deepEqual(uses, ['16:0:16x16', '16:1:16x16', '32:2:16x16']);
        // bindings, push constants and spec constants survive
        const [rn, rk] = [Device.reflectSpirv(nv), Device.reflectSpirv(khr)];
        assert.deepEqual(rk, rn);
        assert.ok(khr.length > nv.length && khr.length < nv.length + 200, `${nv.length} -> ${khr.length} words`);
      }
    });
  }

  it('an FP16 plan for a device with matrix units compiles its coopmat layers for that extension', () => {
    const caps = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: true, maxSharedMemory: 49152, alignment: 256 };
    const { model } = singleNodeModel(COOPMAT_CASES[0].case);
    for (const path of ['nv', 'khr'] as const) {
      const cooperativeMatrix = [{ path, M: 16, N: 16, K: 16, a: 'f16', b: 'f16', c: 'f32', result: 'f32' }];
      for (const kernel of ['matmul_coopmat_64x64', 'matmul_coopmat_128x128']) {
        const plan = buildPlan(model, { ...caps, cooperativeMatrix }, { fp16: true, selection: preferKernel(kernel) });
        const layer = plan.layers.find((l) => l.opTypes.includes('MatMul'))!;
        assert.equal(layer.kernel, kernel);
        assert.equal(layer.dispatches[0].defines?.[`VKRT_COOPMAT_${path.toUpperCase()}`], 1);
        assert.deepEqual(layer.dispatches[0].workgroup, [kernel.endsWith('128') ? 256 : 128, 1, 1]);
        const { modules, dispatchModule } = compileShaders(plan);
        const spirv = modules[dispatchModule[plan.layers.indexOf(layer)][0]];
        const caps17 = parseSpirv(spirv).insts.filter((x) => x.op === 17).map((x) => x.w[1]);
        assert.ok(caps17.includes(path === 'nv' ? 5357 : 6022), `${path}: capabilities ${caps17.join(',')}`);
        if (path === 'khr') {
          const { VKRT_COOPMAT_KHR: _khr, ...rest } = layer.dispatches[0].defines ?? {};
          checkKhr(spirv, compileDispatch({ ...layer.dispatches[0], defines: { ...rest, VKRT_COOPMAT_NV: 1 } }, 'spec'));
        }
      }
    }
  });

  it('an int8 plan for a device with int8 matrix units compiles its integer GEMM layers for that extension', () => {
    const caps = { subgroupSize: 32, maxGroupsX: 65535, maxGroupsY: 65535, maxWorkgroupInvocations: 1024, fp16: true, int8: true, maxSharedMemory: 49152, alignment: 256 };
    for (const c of [INT8_CASES[0], INT8_CASES[1], INT8_CASES[7], INT8_CASES[9]]) {
      const { model } = singleNodeModel(c.case);
      for (const path of ['nv', 'khr'] as const) {
        const cooperativeMatrix = [{ path, M: 16, N: 16, K: 32, a: 'i8', b: 'i8', c: 'i32', result: 'i32' }];
        for (const kernel of [`${c.prefix}_coopmat_i8_64x64`, `${c.prefix}_coopmat_i8_128x128`]) {
          const plan = buildPlan(model, { ...caps, cooperativeMatrix }, { selection: preferKernel(kernel) });
          const layer = plan.layers.find((l) => l.opTypes.includes(c.case.op))!;
          assert.equal(layer.kernel, kernel, c.name);
          const { modules, dispatchModule } = compileShaders(plan);
          const spirv = modules[dispatchModule[plan.layers.indexOf(layer)][0]];
          const caps17 = parseSpirv(spirv).insts.filter((x) => x.op === 17).map((x) => x.w[1]);
          assert.ok(caps17.includes(path === 'nv' ? 5357 : 6022) && caps17.includes(39), `${path}: capabilities ${caps17.join(',')} (Int8 is 39)`);
          if (path === 'khr') {
            const { VKRT_COOPMAT_KHR: _khr, ...rest } = layer.dispatches[0].defines ?? {};
            const m = checkKhr(spirv, compileDispatch({ ...layer.dispatches[0], defines: { ...rest, VKRT_COOPMAT_NV: 1 } }, 'spec'));
            // int8 A and B, int32 accumulators; every MulAdd names all four operands signed (A, B, C, result: 0xf)
            const intWidth = new Map(m.insts.filter((x) => x.op === OP.TypeInt).map((x) => [x.w[1], x.w[2]]));
            const uses = [...new Set([...m.mats.values()].map((t) => `i${intWidth.get(t.comp)}:${t.use}:${t.rows}x${t.cols}`))].sort();
            assert.deepEqual(uses, ['i32:2:16x16', 'i8:0:16x32', 'i8:1:32x16']);
            for (const x of m.insts.filter((i) => i.op === OP.MulAddKHR)) assert.equal(x.w[6], 0xf, 'signedness operands');
          }
        }
      }
    }
  });

  it('leaves a module without NV cooperative matrices as it is', () => {
    const plain = gemm({ VKRT_COOPMAT_EMULATE: 1 });
    assert.equal(coopMatNvToKhr(plain), plain);
    assert.ok(!usesNvCoopMat(plain));
  });

  it('the NV module validates with the installed spirv-val (where there is one)', function () {
    if (spawnSync('spirv-val', ['--version']).status !== 0) this.skip();
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-cm-')), 'gemm.spv');
    fs.writeFileSync(file, gemm({ VKRT_COOPMAT_NV: 1, HAS_C: 1 }));
    execFileSync('spirv-val', ['--target-env', 'vulkan1.1', file]);
  });

  it('clones a constant that feeds two uses, and gives each value the use it is consumed as', () => {
    // one zero constant of the f16 16x16 type starts an A fragment and an f16 accumulator
    const nv = compile(glsl(`
      HM a = HM(0.0), acc = HM(0.0);
      HM b;
      coopMatLoadNV(b, buf.h, 0, 16, false);
      acc = coopMatMulAddNV(a, b, acc);
      coopMatStoreNV(acc, buf.h, 256, 16, true);`));
    const m = checkKhr(coopMatNvToKhr(nv), nv);
    const halfUses = [...m.mats.values()].filter((t) => m.floatWidth.get(t.comp) === 16).map((t) => t.use).sort();
    assert.deepEqual(halfUses, [0, 1, 2]);
    // a column-major store keeps its layout: ColumnMajorKHR (1)
    const store = m.insts.find((x) => x.op === OP.StoreKHR)!;
    assert.equal(m.consts.get(store.w[3]), 1);
  });

  it('refuses a fragment used as both A and B', () => {
    const nv = compile(glsl(`
      HM a; FM acc = FM(0.0);
      coopMatLoadNV(a, buf.h, 0, 16, false);
      acc = coopMatMulAddNV(a, a, acc);
      coopMatStoreNV(acc, buf.f, 0, 16, false);`));
    assert.throws(() => coopMatNvToKhr(nv), (e: Error) => e instanceof UnsupportedError && /both A .* and B /.test(e.message));
  });

  it('refuses a matrix passed to a function', () => {
    const src = glsl(`
      HM a; FM acc = FM(0.0);
      coopMatLoadNV(a, buf.h, 0, 16, false);
      acc = twice(a, acc);
      coopMatStoreNV(acc, buf.f, 0, 16, false);`).replace('void main() {', `FM twice(HM a, FM acc) { return coopMatMulAddNV(a, a, acc); }
void main() {`);
    assert.throws(() => coopMatNvToKhr(compile(src)), (e: Error) => e instanceof UnsupportedError && /function|call/.test(e.message));
  });
});
