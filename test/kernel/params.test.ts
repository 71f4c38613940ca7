/**
 * Named shader parameters (src/kernel/params.ts): packing checks, the generated GLSL headers match
 * the TypeScript layouts, no engine shader reads a parameter by number, and the list of precompiled
 * shader variants (shaders/variants.json) covers every shader.
 */
import { strict as assert } from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import '../../src/ops'; // every kernel module: declares every layout and enum
import { f32bits } from '../../src/kernel/contract';
import { glslEnums, ParamLayout, paramLayouts } from '../../src/kernel/params';
import { GENERATED_DIR, generatedShaderFiles, layoutHeader } from '../../src/kernel/params-glsl';

const ROOT = path.join(__dirname, '..', '..');
const SHADERS = path.join(ROOT, 'shaders');

/** Every .comp under shaders/ as 'nn/conv_gemm' (common/ holds includes only). */
function shaderNames(): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && r !== 'common') walk(path.join(dir, e.name), r);
      else if (e.isFile() && e.name.endsWith('.comp')) out.push(r.slice(0, -'.comp'.length));
    }
  };
  walk(SHADERS, '');
  return out.sort();
}

/** A line's code, without its // comment. */
const code = (line: string) => line.split('//')[0];

describe('named shader parameters', () => {
  describe('pack', () => {
    const L = new ParamLayout('test_layout', {
      n: 'u32', base: 'i32', alpha: 'f32', dims: { array: 'u32', length: 2 }, extra: 'u32?', more: 'f32?',
    });
    const G = new ParamLayout('test_group', { n: 'u32', axes: { each: { dim: 'u32', stride: 'i32' } } });

    it('writes the fields in declaration order, i32 as its u32 bits and f32 as its IEEE bits', () => {
      assert.deepEqual(L.pack({ n: 7, base: -1, alpha: 0.5, dims: [3, 4] }), [7, 0xffffffff, f32bits(0.5), 3, 4]);
      assert.deepEqual(L.pack({ dims: [3, 4], alpha: -Infinity, base: 2, n: 0 }), [0, 2, f32bits(-Infinity), 3, 4]);
    });

    it('ends at the last optional field given', () => {
      assert.equal(L.pack({ n: 1, base: 0, alpha: 0, dims: [1, 1], extra: 9 }).length, 6);
      assert.deepEqual(L.pack({ n: 1, base: 0, alpha: 0, dims: [1, 1], extra: 9, more: 1 }).slice(5), [9, f32bits(1)]);
      assert.throws(() => L.pack({ n: 1, base: 0, alpha: 0, dims: [1, 1], more: 1 }), /optional field 'extra' is missing/);
    });

    it('refuses a missing, unknown or out-of-range field', () => {
      // @ts-expect-error alpha is missing
      assert.throws(() => L.pack({ n: 1, base: 0, dims: [1, 1] }), /field 'alpha' is missing/);
      // @ts-expect-error bogus is no field
      assert.throws(() => L.pack({ n: 1, base: 0, alpha: 0, dims: [1, 1], bogus: 1 }), /no field 'bogus'/);
      assert.throws(() => L.pack({ n: -1, base: 0, alpha: 0, dims: [1, 1] }), /'n' = -1 is out of the u32 range/);
      assert.throws(() => L.pack({ n: 2 ** 32, base: 0, alpha: 0, dims: [1, 1] }), /out of the u32 range/);
      assert.throws(() => L.pack({ n: 1, base: 2 ** 31, alpha: 0, dims: [1, 1] }), /'base' = 2147483648 is out of the i32 range/);
      assert.throws(() => L.pack({ n: 1.5, base: 0, alpha: 0, dims: [1, 1] }), /must be an integer/);
      assert.throws(() => L.pack({ n: 1, base: 0, alpha: 0, dims: [1] }), /'dims' must be an array of 2 numbers/);
      assert.throws(() => L.pack({ n: 1, base: 0, alpha: 0, dims: [1, -2] }), /'dims\[1\]' = -2 is out of the u32 range/);
    });

    it('packs a repeated group entry by entry, any count', () => {
      assert.deepEqual(G.pack({ n: 5, axes: [{ dim: 2, stride: -3 }, { stride: 1, dim: 4 }] }), [5, 2, (-3) >>> 0, 4, 1]);
      assert.deepEqual(G.pack({ n: 5, axes: [] }), [5]);
      // @ts-expect-error entries have no field 'x'
      assert.throws(() => G.pack({ n: 5, axes: [{ dim: 2, stride: 1, x: 0 }] }), /axes\[0\] has no field 'x'/);
      // @ts-expect-error stride is missing
      assert.throws(() => G.pack({ n: 5, axes: [{ dim: 2 }] }), /axes\[0\]\.stride is missing/);
    });

    it('refuses malformed declarations', () => {
      assert.throws(() => new ParamLayout('bad', { a: 'u32?', b: 'u32' }), /required field 'b' after an optional one/);
      assert.throws(() => new ParamLayout('bad', { g: { each: { x: 'u32' } }, a: 'u32' }), /must be the last field/);
      assert.throws(() => new ParamLayout('bad', { a: { array: 'u32', length: 33 } }), /33 words; at most 32/);
      assert.throws(() => new ParamLayout('bad', { a: { array: 'u32', length: 2 }, a_0: 'u32' }), /letters and digits/);
      assert.throws(() => new ParamLayout('Bad', { a: 'u32' }), /lower_snake_case/);
      // @ts-expect-error u64 is no parameter type
      assert.throws(() => new ParamLayout('bad', { a: 'u64' }), /unknown type 'u64'/);
    });

    it('names words in GLSL by field, element and group field', () => {
      const h = layoutHeader(new ParamLayout('test_header', { n: 'u32', k: 'i32', a: 'f32', d: { array: 'u32', length: 2 }, g: { each: { x: 'u32', y: 'f32' } } }));
      for (const line of ['#define P_n   PARAM(0)', '#define P_k   PARAMI(1)', '#define P_a   PARAMF(2)', '#define P_d_0 PARAM(3)', '#define P_d_1 PARAM(4)',
        '#define P_g_x(k) TP(5 + 2 * (k))', '#define P_g_y(k) TPF(6 + 2 * (k))', '#include "tensor_params.glsl"']) {
        assert.ok(h.split('\n').includes(line), `missing: ${line}\n${h}`);
      }
    });
  });

  describe('generated headers', () => {
    it(`${GENERATED_DIR} holds exactly what the layouts and enums generate (else run \`npm run gen:shaders\`)`, () => {
      const files = generatedShaderFiles();
      assert.ok(paramLayouts().length >= 40, `only ${paramLayouts().length} layouts declared`);
      for (const [rel, text] of files) {
        const file = path.join(ROOT, rel);
        assert.ok(fs.existsSync(file), `${rel} is missing: run \`npm run gen:shaders\``);
        assert.equal(fs.readFileSync(file, 'utf8'), text, `${rel} differs from its TypeScript declaration: run \`npm run gen:shaders\``);
      }
      const stale = fs.readdirSync(path.join(ROOT, GENERATED_DIR)).map((f) => `${GENERATED_DIR}/${f}`).filter((f) => !files.has(f));
      assert.deepEqual(stale, [], 'headers no layout declares: run `npm run gen:shaders`');
    });

    it('every layout header is included by a shader', () => {
      const sources = shaderNames().map((s) => fs.readFileSync(path.join(SHADERS, `${s}.comp`), 'utf8')).join('\n');
      const unused = paramLayouts().filter((l) => !sources.includes(`#include "params/${l.name}.glsl"`)).map((l) => l.name);
      assert.deepEqual(unused, []);
    });

    /** The code of every shader and hand-written include (comments dropped). */
    const glslCode = () => [
      ...shaderNames().map((s) => path.join(SHADERS, `${s}.comp`)),
      ...fs.readdirSync(path.join(SHADERS, 'common')).filter((f) => f.endsWith('.glsl')).map((f) => path.join(SHADERS, 'common', f)),
    ].map((f) => fs.readFileSync(f, 'utf8').split('\n').map(code).join('\n')).join('\n');

    it('every shared enum is read by GLSL (a shader or an include)', () => {
      const glsl = glslCode();
      const unused = glslEnums().filter((e) => !new RegExp(`\\b${e.name}_[A-Za-z]`).test(glsl)).map((e) => e.name);
      assert.deepEqual(unused, []);
    });

    it('every enum name GLSL uses is declared (an unknown name in #if would read as 0)', () => {
      const glsl = glslCode();
      const unknown: string[] = [];
      for (const e of glslEnums()) {
        for (const m of glsl.matchAll(new RegExp(`\\b${e.name}_(\\w+)`, 'g'))) {
          if (!(m[1] in e.codes)) unknown.push(m[0]);
        }
      }
      assert.deepEqual([...new Set(unknown)], []);
    });
  });

  it('no shader under shaders/{nn,reduce,tensor} reads a parameter by number (PARAM/PARAMI/PARAMF, TP/TPI/TPF)', () => {
    const bad: string[] = [];
    for (const s of shaderNames().filter((n) => /^(nn|reduce|tensor)\//.test(n))) {
      fs.readFileSync(path.join(SHADERS, `${s}.comp`), 'utf8').split('\n').forEach((line, i) => {
        if (/\b(PARAM|PARAMI|PARAMF|TP|TPI|TPF)\s*\(/.test(code(line))) bad.push(`shaders/${s}.comp:${i + 1}: ${line.trim()}`);
      });
    }
    assert.deepEqual(bad, [], 'read the parameter by its generated name (P_<field>) instead');
  });

  describe('precompiled shader variants (shaders/variants.json)', () => {
    const list = JSON.parse(fs.readFileSync(path.join(SHADERS, 'variants.json'), 'utf8')) as { variants: { shader: string; name?: string; defines?: Record<string, string | number> }[] };

    it('lists every shader at least once, and only shaders that exist', () => {
      const listed = new Set(list.variants.map((v) => v.shader));
      const all = shaderNames();
      assert.deepEqual(all.filter((s) => !listed.has(s)), [], 'shaders no variant compiles at build time');
      assert.deepEqual([...listed].filter((s) => !all.includes(s)), [], 'variants of shaders that do not exist');
    });

    it('gives each variant a unique output name made of safe characters', () => {
      const outs = list.variants.map((v) => (v.name ? `${v.shader}.${v.name}` : v.shader));
      assert.equal(new Set(outs).size, outs.length, 'two variants write the same .spv');
      for (const v of list.variants) {
        assert.ok(!v.name || /^[a-z0-9_]+$/.test(v.name), `variant name '${v.name}'`);
        assert.ok(v.name || !v.defines || !Object.keys(v.defines).length, `${v.shader}: a variant with defines needs a name`);
        for (const [k, val] of Object.entries(v.defines ?? {})) {
          assert.ok(/^[A-Z_][A-Z0-9_]*$/.test(k) && /^[A-Za-z0-9_.]+$/.test(String(val)), `${v.shader}: define ${k}=${val}`);
        }
      }
    });
  });
});
