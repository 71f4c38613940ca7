/**
 * Generated pointwise kernels: any expression over N broadcast inputs becomes one GLSL compute
 * shader. Dims are collapsed first (adjacent axes that broadcast alike merge), so most kernels end
 * up rank 1-3. The rank and the element types are in the source text; sizes and strides are params
 * (spec or push constants), so one source serves every shape of the same rank.
 * The pointwise-fusion pass reuses this with a multi-op program (vkrt::FusedElementwise, whose
 * steps come in as `body` statements).
 */
import { DeviceCaps, DispatchDesc, grid1d } from './contract';
import { stridesOf } from '../ir/tensor';
import { GpuType, glslType, isByte, isPacked, PACKED, PackedType } from './storage';

/**
 * The storage conversion layer of FP16 engines (f32 <-> f16 copy of a tensor), which the builder
 * inserts where a tensor meets a layer of the other precision; the loader re-derives it.
 */
export function conversionDispatch(from: GpuType, to: GpuType, dims: readonly number[], caps: DeviceCaps): DispatchDesc {
  if (isByte(from) || isByte(to)) return byteConversionDispatch(from, to, dims, caps);
  const d = pointwiseDispatch({ name: `convert_${from}_${to}`, inputs: [{ gpu: from, dims, as: 'float' }], outDims: dims, outGpu: to, resultAs: 'float', expr: 'v0' }, caps);
  return { ...d, defines: { ...(d.defines ?? {}), VKRT_F16: 1 } };
}

/**
 * int8/uint8 between byte storage and int32 (either way; the values fit both): one element per
 * invocation, each writing its own byte or word.
 */
function byteConversionDispatch(from: GpuType, to: GpuType, dims: readonly number[], caps: DeviceCaps): DispatchDesc {
  const ok = (t: GpuType) => isByte(t) || t === 'i32';
  if (!ok(from) || !ok(to) || from === to) throw new Error(`no conversion from ${from} to ${to}`);
  const n = dims.reduce((a, b) => a * b, 1);
  const source = [
    '#version 450', '#extension GL_GOOGLE_include_directive : require',
    '#extension GL_EXT_shader_8bit_storage : require', '#extension GL_EXT_shader_explicit_arithmetic_types_int8 : require',
    '#include "vkrt.glsl"',
    `// generated conversion ${from} -> ${to} (int8/uint8 byte storage); bindings: 0 source, 1 destination; params: n`,
    `layout(std430, binding = 0) readonly buffer In { ${glslType(from)} x[]; };`,
    `layout(std430, binding = 1) writeonly buffer Out { ${glslType(to)} y[]; };`,
    'void main() {', '  uint i = vkrt_index();', '  if (i >= PARAM(0)) return;', `  y[i] = ${glslType(to)}(x[i]);`, '}',
  ].join('\n') + '\n';
  return { shader: `convert_${from}_${to}`, source, params: [n], workgroup: [128, 1, 1], groups: grid1d(n, 128, caps), bindings: [{ input: 0 }, { output: 0 }] };
}

export interface PointwiseInput {
  gpu: GpuType;
  dims: readonly number[];
  /** How the expression sees the value: 'float', 'int' or 'bool' (bool: stored i32 != 0). */
  as: 'float' | 'int' | 'bool';
}

export interface PointwiseSpec {
  /** Kernel name (also the cache key prefix). */
  name: string;
  inputs: PointwiseInput[];
  outDims: readonly number[];
  outGpu: GpuType;
  /** Type of the expression's value: converted to the output storage on write. */
  resultAs: 'float' | 'int' | 'bool';
  /** GLSL expression over v0..v{N-1}, the named float params and what `body` declares. */
  expr: string;
  /** Statements run before `expr` (a fused program's steps: `float t0 = ...;`). */
  body?: string[];
  /** Named float params, bound to PARAMF(k). */
  floatParams?: Record<string, number>;
  /** Extra GLSL functions the expression calls. */
  helpers?: string;
}

const MAX_PARAMS = 32;

/**
 * Collapse the broadcast of inputs to outDims: returns per-axis sizes and per-input strides
 * (0 where broadcast), with adjacent axes merged where every input is contiguous across them.
 */
export function collapseBroadcast(outDims: readonly number[], inputs: readonly (readonly number[])[]): { dims: number[]; strides: number[][] } {
  const rank = outDims.length;
  const strides = inputs.map((d) => {
    const s = stridesOf(d);
    const full = new Array<number>(rank).fill(0);
    for (let i = 0; i < d.length; i++) {
      const o = rank - d.length + i;
      full[o] = d[i] === 1 && outDims[o] !== 1 ? 0 : s[i];
    }
    return full;
  });
  // drop size-1 axes
  let dims: number[] = [];
  let st: number[][] = strides.map(() => []);
  for (let a = 0; a < rank; a++) {
    if (outDims[a] === 1) continue;
    dims.push(outDims[a]);
    strides.forEach((s, j) => st[j].push(s[a]));
  }
  // merge axis a into a+1 when for every input stride[a] == stride[a+1] * dims[a+1]
  for (let a = dims.length - 2; a >= 0; a--) {
    if (st.every((s) => s[a] === s[a + 1] * dims[a + 1])) {
      dims[a + 1] *= dims[a];
      dims.splice(a, 1);
      st = st.map((s) => { const c = s.slice(); c.splice(a, 1); return c; });
    }
  }
  if (dims.length === 0) { dims = [1]; st = st.map(() => [0]); }
  return { dims, strides: st };
}

export function pointwiseDispatch(spec: PointwiseSpec, caps: DeviceCaps): DispatchDesc {
  const n = spec.outDims.reduce((a, b) => a * b, 1);
  const { dims, strides } = collapseBroadcast(spec.outDims, spec.inputs.map((i) => i.dims));
  const packed = isPacked(spec.outGpu) || spec.inputs.some((i) => isPacked(i.gpu));
  if (!packed && n % 4 === 0 && n > 0 && dims.length === 1 && strides.every((st) => st[0] === 1 || st[0] === 0)) return vec4Dispatch(spec, n, strides.map((st) => st[0] === 1), caps);
  if (isPacked(spec.outGpu) && spec.resultAs === 'float') throw new Error(`pointwise kernel '${spec.name}': a packed output takes an int code, not a float`);
  const R = dims.length;
  const fp = Object.entries(spec.floatParams ?? {});
  const params: number[] = [n];
  const dimAt = (k: number) => 1 + k;
  params.push(...dims);
  const strideAt = (j: number, k: number) => 1 + R + j * R + k;
  for (const s of strides) params.push(...s);
  const fpBase = params.length;
  const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
  for (const [, v] of fp) { f32[0] = v; params.push(u32[0]); }
  if (params.length > MAX_PARAMS) throw new Error(`pointwise kernel '${spec.name}' needs ${params.length} params (rank ${R}, ${spec.inputs.length} inputs); at most ${MAX_PARAMS}`);
  const lines: string[] = [];
  lines.push('#version 450', '#extension GL_GOOGLE_include_directive : require', '#include "vkrt.glsl"');
  lines.push(`// generated pointwise kernel ${spec.name}: ${spec.inputs.length} input(s), rank ${R}`);
  lines.push('// bindings: 0..N-1 inputs, N output; params: n, dims[R], strides[N][R], float params');
  spec.inputs.forEach((inp, j) => lines.push(`layout(std430, binding = ${j}) readonly buffer In${j} { ${glslType(inp.gpu)} x${j}[]; };`));
  lines.push(`layout(std430, binding = ${spec.inputs.length}) writeonly buffer Out { ${glslType(spec.outGpu)} y[]; };`);
  if (spec.helpers) lines.push(spec.helpers);
  // a packed output: each invocation computes the elements of one 32-bit word and writes it whole
  const outPack = isPacked(spec.outGpu) ? PACKED[spec.outGpu] : undefined;
  const per = outPack ? 32 / outPack.bits : 1;
  const ind = outPack ? '    ' : '  ';
  lines.push('void main() {');
  fp.forEach(([name], k) => lines.push(`  float ${name} = PARAMF(${fpBase + k});`));
  if (outPack) {
    lines.push('  uint w = vkrt_index();', `  if (w * ${per}u >= PARAM(0)) return;`, '  uint word = 0u;');
    lines.push(`  for (uint e = 0u; e < ${per}u; e++) {`, `    uint i = w * ${per}u + e;`, '    if (i >= PARAM(0)) break;');
  } else {
    lines.push('  uint i = vkrt_index();', '  if (i >= PARAM(0)) return;');
  }
  lines.push(`${ind}uint rem = i, c;`);
  spec.inputs.forEach((_, j) => lines.push(`${ind}uint o${j} = 0u;`));
  for (let k = R - 1; k >= 0; k--) {
    const step = [`c = rem % PARAM(${dimAt(k)});`, `rem /= PARAM(${dimAt(k)});`];
    spec.inputs.forEach((_, j) => step.push(`o${j} += c * PARAM(${strideAt(j, k)});`));
    lines.push(`${ind}${step.join(' ')}`);
  }
  spec.inputs.forEach((inp, j) => {
    const raw = isPacked(inp.gpu) ? packedRead(inp.gpu, `x${j}`, `o${j}`) : `x${j}[o${j}]`;
    lines.push(`${ind}${inp.as} v${j} = ${readAs(inp, raw)};`);
  });
  if (spec.body) lines.push(...spec.body.map((l) => (outPack ? `  ${l}` : l)));
  lines.push(`${ind}${spec.resultAs} r = ${spec.expr};`);
  if (outPack) {
    const code = spec.resultAs === 'bool' ? '(r ? 1u : 0u)' : `(uint(r) & ${(1 << outPack.bits) - 1}u)`;
    lines.push(`    word |= ${code} << (e * ${outPack.bits}u);`, '  }', '  y[w] = word;', '}');
  } else {
    lines.push(`  y[i] = ${storeAs(spec)};`, '}');
  }
  const wg = 128;
  return {
    shader: `${spec.name}_r${R}_${spec.inputs.map((i) => `${i.gpu}${i.as[0]}`).join('')}_${spec.outGpu}`,
    source: lines.join('\n') + '\n',
    params,
    workgroup: [wg, 1, 1],
    groups: grid1d(Math.ceil(n / per), wg, caps),
    bindings: [...spec.inputs.map((_, j) => ({ input: j })), { output: 0 }],
  };
}

/** The result `r` converted to the output's storage type. */
function storeAs(spec: PointwiseSpec): string {
  if (spec.outGpu === 'i32') return spec.resultAs === 'float' ? 'int(r)' : spec.resultAs === 'bool' ? '(r ? 1 : 0)' : 'r';
  return spec.resultAs === 'bool' ? `${glslType(spec.outGpu)}(r ? 1.0 : 0.0)` : `${glslType(spec.outGpu)}(r)`;
}

const VEC4: Record<'f32' | 'f16' | 'i32' | 'sid', string> = { f32: 'vec4', f16: 'f16vec4', i32: 'ivec4', sid: 'ivec4' };

/**
 * The code of element `o` of a packed buffer `x` (uint words): an int, sign-extended for the
 * signed types (int4, int2).
 */
export function packedRead(t: PackedType, x: string, o: string): string {
  const { bits, signed } = PACKED[t];
  const per = 32 / bits, shift = Math.log2(per);
  const pos = `((${o} & ${per - 1}u) * ${bits}u)`;
  const word = `${x}[${o} >> ${shift}u]`;
  return signed ? `(int(${word} << (${32 - bits}u - ${pos})) >> ${32 - bits})` : `int((${word} >> ${pos}) & ${(1 << bits) - 1}u)`;
}

/** The GLSL that reads input j's element (scalar `raw`) as the expression's type. */
function readAs(inp: PointwiseInput, raw: string): string {
  const intLike = inp.gpu === 'i32' || inp.gpu === 'sid' || isPacked(inp.gpu);
  return inp.as === 'bool' ? `(${raw} != ${intLike ? '0' : '0.0'})` : inp.as === 'float' ? `float(${raw})` : `int(${raw})`;
}

/**
 * The contiguous case (every input has the output's layout or is one broadcast value, n a multiple
 * of 4): each invocation moves 4 elements with 16-byte (8 for f16) loads and stores. Per element it
 * runs the same scalar expression as the general kernel, so results are identical; only the memory
 * access is wider (on an H200 a vec4 Relu moved 2.8x the bytes per second of the scalar kernel).
 * Binding offsets are multiples of the storage-buffer alignment (>= 16 bytes), so vector arrays
 * start aligned.
 */
function vec4Dispatch(spec: PointwiseSpec, n: number, contiguous: boolean[], caps: DeviceCaps): DispatchDesc {
  const fp = Object.entries(spec.floatParams ?? {});
  const params: number[] = [n / 4];
  const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
  for (const [, v] of fp) { f32[0] = v; params.push(u32[0]); }
  if (params.length > MAX_PARAMS) throw new Error(`pointwise kernel '${spec.name}' needs ${params.length} params; at most ${MAX_PARAMS}`);
  const lines: string[] = [];
  lines.push('#version 450', '#extension GL_GOOGLE_include_directive : require', '#include "vkrt.glsl"');
  lines.push(`// generated pointwise kernel ${spec.name}: ${spec.inputs.length} input(s), contiguous, 4 elements per invocation`);
  lines.push('// bindings: 0..N-1 inputs (vectors, or one broadcast value), N output; params: n/4, float params');
  const vec4 = (t: GpuType): string => VEC4[t as 'f32' | 'f16' | 'i32' | 'sid'];
  spec.inputs.forEach((inp, j) => lines.push(`layout(std430, binding = ${j}) readonly buffer In${j} { ${contiguous[j] ? vec4(inp.gpu) : glslType(inp.gpu)} x${j}[]; };`));
  lines.push(`layout(std430, binding = ${spec.inputs.length}) writeonly buffer Out { ${vec4(spec.outGpu)} y[]; };`);
  if (spec.helpers) lines.push(spec.helpers);
  lines.push('void main() {', '  uint i = vkrt_index();', '  if (i >= PARAM(0)) return;');
  fp.forEach(([name], k) => lines.push(`  float ${name} = PARAMF(${1 + k});`));
  spec.inputs.forEach((inp, j) => lines.push(contiguous[j] ? `  ${vec4(inp.gpu)} a${j} = x${j}[i];` : `  ${glslType(inp.gpu)} a${j} = x${j}[0];`));
  lines.push(`  ${vec4(spec.outGpu)} y4;`, '  for (int e = 0; e < 4; e++) {');
  spec.inputs.forEach((inp, j) => lines.push(`    ${inp.as} v${j} = ${readAs(inp, contiguous[j] ? `a${j}[e]` : `a${j}`)};`));
  if (spec.body) lines.push(...spec.body.map((l) => `  ${l}`));
  lines.push(`    ${spec.resultAs} r = ${spec.expr};`);
  lines.push(`    y4[e] = ${storeAs(spec)};`, '  }', '  y[i] = y4;', '}');
  const wg = 256;
  return {
    shader: `${spec.name}_v4_${spec.inputs.map((inp, j) => `${inp.gpu}${inp.as[0]}${contiguous[j] ? 'v' : 's'}`).join('')}_${spec.outGpu}`,
    source: lines.join('\n') + '\n',
    params,
    workgroup: [wg, 1, 1],
    groups: grid1d(n / 4, wg, caps),
    bindings: [...spec.inputs.map((_, j) => ({ input: j })), { output: 0 }],
  };
}
