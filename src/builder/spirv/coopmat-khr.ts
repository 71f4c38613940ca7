/**
 * SPV_NV_cooperative_matrix -> SPV_KHR_cooperative_matrix, a rewrite of SPIR-V words.
 *
 * Why: glslang 12 (Debian 12's shaderc) compiles GLSL's GL_NV_cooperative_matrix but not
 * GL_KHR_cooperative_matrix, while AMD and Intel drivers offer only VK_KHR_cooperative_matrix. So a
 * kernel is written once against shaders/common/coopmat.glsl, compiled with the NV extension, and
 * for the KHR path this pass rewrites the module (docs/coopmat.md has the decision).
 *
 * What changes (opcode and enum numbers from the SPIR-V registry, spirv.core.grammar.json):
 *   Capability CooperativeMatrixNV (5357)        -> CooperativeMatrixKHR (6022)
 *   OpExtension "SPV_NV_cooperative_matrix"       -> "SPV_KHR_cooperative_matrix"
 *   OpTypeCooperativeMatrixNV (5358) T S R C      -> OpTypeCooperativeMatrixKHR (4456) T S R C Use
 *   OpCooperativeMatrixLoadNV (5359) p str cm [m] -> OpCooperativeMatrixLoadKHR (4457) p layout str [m]
 *   OpCooperativeMatrixStoreNV (5360) p o str cm [m] -> OpCooperativeMatrixStoreKHR (4458) p o layout str [m]
 *   OpCooperativeMatrixMulAddNV (5361) a b c      -> OpCooperativeMatrixMulAddKHR (4459) a b c [signedness]
 *   OpCooperativeMatrixLengthNV (5362) T          -> OpCooperativeMatrixLengthKHR (4460) T'
 * where layout is CooperativeMatrixLayout RowMajorKHR (0) for ColumnMajor false, ColumnMajorKHR (1)
 * for true, and Use is CooperativeMatrixUse MatrixAKHR (0), MatrixBKHR (1), MatrixAccumulatorKHR (2).
 *
 * The hard part is the use. An NV type is one per (component type, scope, rows, columns): a 16x16
 * FP16 type serves A and B operands alike. A KHR type also carries the use, so every matrix value
 * gets its type from where it is used: values that must share a type (an OpLoad and its variable,
 * an OpStore's pointer and object, OpPhi/OpSelect/OpCopyObject operands and result, an access chain
 * and its base, arithmetic and conversions and their operands) are joined (union-find); a MulAdd
 * fixes its A, B and C operands and its result; what nothing fixes is an accumulator. Pointer and
 * array types of matrices get one copy per use. Constants (OpConstantComposite, OpConstantNull,
 * OpUndef of a matrix type) are cloned per use instead of joining what they feed. A value that
 * would need two uses (one fragment passed as both A and B), a matrix crossing a function call, in
 * a struct, or met by an instruction this pass does not know, is refused with UnsupportedError
 * naming it: the pass never guesses. Kernels therefore use macros, not functions, for matrix work.
 *
 * SPIRV-Tools 2023.1 (Debian 12) cannot validate the result: it rejects the CooperativeMatrixKHR
 * capability. test/builder/coopmat-khr.test.ts checks the words; the GPU host runs the modules.
 */
import { UnsupportedError } from '../../errors';

const OP = {
  Undef: 1, Name: 5, MemberName: 6, Extension: 10, TypeInt: 21, TypeArray: 28, TypeRuntimeArray: 29, TypeStruct: 30,
  TypePointer: 32, TypeFunction: 33, ConstantTrue: 41, ConstantFalse: 42, Constant: 43, ConstantComposite: 44,
  ConstantNull: 46, SpecConstantComposite: 51, Function: 54, FunctionParameter: 55, FunctionCall: 57, Variable: 59,
  Load: 61, Store: 62, CopyMemory: 63, AccessChain: 65, InBoundsAccessChain: 66, PtrAccessChain: 67,
  CompositeConstruct: 80, CompositeExtract: 81, CompositeInsert: 82, CopyObject: 83, Select: 169, Phi: 245,
  ReturnValue: 254, Capability: 17,
  TypeCoopMatKHR: 4456, LoadKHR: 4457, StoreKHR: 4458, MulAddKHR: 4459, LengthKHR: 4460,
  TypeCoopMatNV: 5358, LoadNV: 5359, StoreNV: 5360, MulAddNV: 5361, LengthNV: 5362,
} as const;
const CAP_NV = 5357, CAP_KHR = 6022;
const EXT_NV = 'SPV_NV_cooperative_matrix', EXT_KHR = 'SPV_KHR_cooperative_matrix';
/** CooperativeMatrixUse. */
export const USE_A = 0, USE_B = 1, USE_ACC = 2;
type Use = 0 | 1 | 2;
const USE_NAMES = ['A', 'B', 'accumulator'];
/** Arithmetic and conversions whose matrix operands share the result's use. */
const ELEMENTWISE = new Set([
  109, 110, 111, 112, 113, 114, 115, 124, // conversions, OpBitcast
  126, 127, 128, 129, 130, 131, 132, 133, 134, 135, 136, 143, // negate, add, sub, mul, div, OpMatrixTimesScalar
]);
/** Instructions not scanned for matrix operands: module preamble, debug, annotations. */
const SKIP = new Set([2, 3, 4, 5, 6, 7, 8, 10, 11, 14, 15, 16, 17, 71, 72, 73, 74, 75, 317, 330, 331, 332, 5632, 5633]);
/** Instructions whose operands are ids that cannot legally be matrices, or literals (not scanned). */
const PLAIN = new Set([12, 43, 50, 56, 224, 225, 246, 247, 248, 249, 250, 251, 252, 253]);

interface Inst { op: number; w: number[] }

function decodeString(w: number[], from: number): string {
  const bytes: number[] = [];
  for (let i = from; i < w.length; i++) for (let b = 0; b < 4; b++) bytes.push((w[i] >>> (8 * b)) & 0xff);
  const end = bytes.indexOf(0);
  return Buffer.from(bytes.slice(0, end < 0 ? bytes.length : end)).toString('utf8');
}

function encodeString(s: string): number[] {
  const bytes = [...Buffer.from(s, 'utf8'), 0];
  while (bytes.length % 4) bytes.push(0);
  const out: number[] = [];
  for (let i = 0; i < bytes.length; i += 4) out.push((bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0);
  return out;
}

/** Splits a module into its header and instructions (word 0 of each is recomputed on output). */
export function parseSpirv(words: Uint32Array): { header: number[]; insts: Inst[] } {
  if (words.length < 5 || words[0] !== 0x07230203) throw new UnsupportedError('not a SPIR-V module (bad magic number)');
  const insts: Inst[] = [];
  for (let i = 5; i < words.length;) {
    const n = words[i] >>> 16, op = words[i] & 0xffff;
    if (n === 0 || i + n > words.length) throw new UnsupportedError(`malformed SPIR-V: instruction at word ${i} has ${n} words`);
    insts.push({ op, w: Array.from(words.subarray(i, i + n)) });
    i += n;
  }
  return { header: Array.from(words.subarray(0, 5)), insts };
}

function assemble(header: number[], insts: Inst[], bound: number): Uint32Array {
  const n = 5 + insts.reduce((s, x) => s + x.w.length, 0);
  const out = new Uint32Array(n);
  out.set(header);
  out[3] = bound;
  let at = 5;
  for (const x of insts) {
    x.w[0] = ((x.w.length << 16) | x.op) >>> 0;
    out.set(x.w, at);
    at += x.w.length;
  }
  return out;
}

/** True when the module declares the NV cooperative-matrix capability. */
export function usesNvCoopMat(words: Uint32Array): boolean {
  return parseSpirv(words).insts.some((x) => x.op === OP.Capability && x.w[1] === CAP_NV);
}

/** Rewrites an NV cooperative-matrix module to the KHR extension (see the module comment). */
export function coopMatNvToKhr(words: Uint32Array): Uint32Array {
  const { header, insts } = parseSpirv(words);
  let bound = header[3];
  const fresh = () => bound++;
  const refuse = (what: string): never => {
    throw new UnsupportedError(`cooperative-matrix NV-to-KHR rewrite: ${what}`);
  };

  // --- types: NV matrix types, and pointer/array types built on them ("matrix types")
  const nvType = new Map<number, number>(); // id -> instruction index
  const derived = new Map<number, { inner: number; at: number; pos: number }>(); // id -> inner type, index, word of inner
  const intSigned = new Map<number, boolean>();
  let uintType: number | undefined, firstNv = -1;
  const boolConst = new Map<number, boolean>();
  const uintConst = new Map<number, number>(); // value -> id (declared before the first NV type)
  insts.forEach((x, i) => {
    const w = x.w;
    if (x.op === OP.TypeInt) {
      intSigned.set(w[1], w[3] === 1);
      if (w[2] === 32 && w[3] === 0 && uintType === undefined) uintType = firstNv < 0 ? w[1] : refuse('the 32-bit unsigned type is declared after the first matrix type');
    } else if (x.op === OP.TypeCoopMatNV) {
      nvType.set(w[1], i);
      if (firstNv < 0) firstNv = i;
    } else if ((x.op === OP.TypePointer && (nvType.has(w[3]) || derived.has(w[3])))) {
      derived.set(w[1], { inner: w[3], at: i, pos: 3 });
    } else if ((x.op === OP.TypeArray || x.op === OP.TypeRuntimeArray) && (nvType.has(w[2]) || derived.has(w[2]))) {
      derived.set(w[1], { inner: w[2], at: i, pos: 2 });
    } else if (x.op === OP.TypeStruct && w.slice(2).some((m) => nvType.has(m) || derived.has(m))) {
      refuse(`struct type %${w[1]} has a cooperative-matrix member`);
    } else if (x.op === OP.TypeFunction && w.slice(2).some((m) => nvType.has(m) || derived.has(m))) {
      refuse(`function type %${w[1]} takes or returns a cooperative matrix (use macros, not functions, for matrix work)`);
    } else if (x.op === OP.ConstantTrue || x.op === OP.ConstantFalse) {
      boolConst.set(w[2], x.op === OP.ConstantTrue);
    } else if (x.op === OP.Constant && w[1] === uintType && w.length === 4 && firstNv < 0 && !uintConst.has(w[3])) {
      uintConst.set(w[3], w[2]);
    }
  });
  if (!nvType.size) return words;
  const isMatType = (t: number) => nvType.has(t) || derived.has(t);
  const baseOf = (t: number): number => (nvType.has(t) ? t : baseOf(derived.get(t)!.inner));

  // --- values of matrix types, and constraints between them
  const typeOf = new Map<number, number>();
  const constant = new Set<number>();
  const TYPE_DECLS = (op: number) => (op >= 19 && op <= 39) || op === 322 || op === 327 || op === 4456 || op === 4472 || op === 5341 || op === 5358;
  insts.forEach((x) => {
    if (SKIP.has(x.op) || TYPE_DECLS(x.op) || x.w.length < 3 || !isMatType(x.w[1])) return;
    typeOf.set(x.w[2], x.w[1]);
    if (x.op === OP.ConstantComposite || x.op === OP.SpecConstantComposite || x.op === OP.ConstantNull || x.op === OP.Undef) constant.add(x.w[2]);
  });
  const isVal = (id: number) => typeOf.has(id);
  const parent = new Map<number, number>();
  const find = (id: number): number => {
    let r = id;
    while (parent.has(r)) r = parent.get(r)!;
    return r;
  };
  const union = (a: number, b: number) => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent.set(ra, rb);
  };
  const fixed: { id: number; use: Use; where: string }[] = [];
  /** A constant operand: cloned for the use of `node` (or `use`) instead of joined. */
  const demands: { inst: Inst; word: number; id: number; node?: number; use?: Use }[] = [];
  const join = (x: Inst, word: number, node: number) => {
    const id = x.w[word];
    if (!isVal(id)) return;
    if (constant.has(id)) demands.push({ inst: x, word, id, node });
    else union(id, node);
  };
  const fix = (x: Inst, word: number, use: Use, where: string) => {
    const id = x.w[word];
    if (!isVal(id)) refuse(`${where}: operand %${id} is not a cooperative matrix`);
    if (constant.has(id)) demands.push({ inst: x, word, id, use });
    else fixed.push({ id, use, where });
  };
  const matOperands = (x: Inst, from: number) => x.w.slice(from).some(isVal);

  for (const x of insts) {
    const w = x.w, res = w[2];
    const resMat = w.length >= 3 && isMatType(w[1]) && !SKIP.has(x.op) && !TYPE_DECLS(x.op);
    switch (x.op) {
      case OP.ConstantComposite: case OP.SpecConstantComposite:
        if (resMat && !nvType.has(w[1])) refuse(`constant %${res}: a composite of cooperative matrices`);
        break;
      case OP.ConstantNull: case OP.Undef: break;
      case OP.Variable: if (resMat && w.length > 4) join(x, 4, res); break;
      case OP.Load: if (resMat) union(res, w[3]); break;
      case OP.Store: if (isVal(w[1])) join(x, 2, w[1]); break;
      case OP.CopyMemory: if (isVal(w[1]) || isVal(w[2])) union(w[1], w[2]); break;
      case OP.AccessChain: case OP.InBoundsAccessChain: if (resMat) union(res, w[3]); break;
      case OP.PtrAccessChain: if (resMat || isVal(w[3])) refuse(`OpPtrAccessChain %${res} on cooperative matrices`); break;
      case OP.CopyObject: if (resMat) join(x, 3, res); break;
      case OP.Phi: if (resMat) for (let i = 3; i < w.length; i += 2) join(x, i, res); break;
      case OP.Select: if (resMat) { join(x, 4, res); join(x, 5, res); } break;
      case OP.CompositeConstruct: if (resMat && !nvType.has(w[1])) for (let i = 3; i < w.length; i++) join(x, i, res); break;
      case OP.CompositeExtract: if (resMat) union(res, w[3]); break;
      case OP.CompositeInsert:
        if (resMat) { join(x, 4, res); if (isVal(w[3])) join(x, 3, res); }
        break;
      case OP.LoadNV: break;
      case OP.StoreNV: if (constant.has(w[2])) demands.push({ inst: x, word: 2, id: w[2], use: USE_ACC }); break;
      case OP.MulAddNV:
        fix(x, 3, USE_A, `MulAdd %${res} operand A`);
        fix(x, 4, USE_B, `MulAdd %${res} operand B`);
        fix(x, 5, USE_ACC, `MulAdd %${res} operand C`);
        fixed.push({ id: res, use: USE_ACC, where: `MulAdd %${res} result` });
        break;
      case OP.LengthNV: break;
      case OP.FunctionParameter: case OP.Function:
        if (resMat) refuse(`function %${res} takes or returns a cooperative matrix (use macros, not functions, for matrix work)`);
        break;
      case OP.FunctionCall: if (matOperands(x, 4)) refuse(`call %${res} passes a cooperative matrix (use macros, not functions, for matrix work)`); break;
      case OP.ReturnValue: if (isVal(w[1])) refuse('a function returns a cooperative matrix'); break;
      default:
        if (ELEMENTWISE.has(x.op) && resMat) {
          for (let i = 3; i < w.length; i++) join(x, i, res);
        } else if (!SKIP.has(x.op) && !PLAIN.has(x.op) && !TYPE_DECLS(x.op) && (resMat || matOperands(x, 1))) {
          refuse(`opcode ${x.op} (result %${resMat ? res : '-'}) on a cooperative matrix is not known to this pass`);
        }
    }
  }

  // --- each class of joined values gets its use
  const classUse = new Map<number, { use: Use; where: string }>();
  for (const f of fixed) {
    const r = find(f.id), had = classUse.get(r);
    if (had && had.use !== f.use) refuse(`matrix value %${f.id} would be both ${USE_NAMES[had.use]} (${had.where}) and ${USE_NAMES[f.use]} (${f.where}); copy it into a separate variable of each use`);
    if (!had) classUse.set(r, f);
  }
  const useOf = (id: number): Use => classUse.get(find(id))?.use ?? USE_ACC;

  // --- KHR types per (type, use): the first use of a type keeps its id (and its declaration slot)
  const constsFirst: Inst[] = [];
  if (uintType === undefined) {
    uintType = fresh();
    constsFirst.push({ op: OP.TypeInt, w: [0, uintType, 32, 0] });
  }
  const uintId = (v: number): number => {
    let id = uintConst.get(v);
    if (id === undefined) {
      id = fresh();
      uintConst.set(v, id);
      constsFirst.push({ op: OP.Constant, w: [0, uintType!, id, v] });
    }
    return id;
  };
  const variants = new Map<number, Map<Use, number>>();
  const after = new Map<number, Inst[]>(); // instruction index -> declarations to insert after it
  const insertAfter = (i: number, x: Inst) => {
    if (!after.has(i)) after.set(i, []);
    after.get(i)!.push(x);
  };
  const variant = (t: number, use: Use): number => {
    let m = variants.get(t);
    if (!m) variants.set(t, (m = new Map()));
    const have = m.get(use);
    if (have !== undefined) return have;
    const first = m.size === 0;
    const id = first ? t : fresh();
    m.set(use, id);
    if (nvType.has(t)) {
      const i = nvType.get(t)!, nw = insts[i].w;
      const decl: Inst = { op: OP.TypeCoopMatKHR, w: [0, id, nw[2], nw[3], nw[4], nw[5], uintId(use)] };
      if (first) insts[i] = decl;
      else insertAfter(i, decl);
    } else {
      const d = derived.get(t)!, inner = variant(d.inner, use);
      const decl: Inst = { op: insts[d.at].op, w: [...insts[d.at].w] };
      decl.w[1] = id;
      decl.w[d.pos] = inner;
      if (first) insts[d.at] = decl;
      else insertAfter(d.at, decl);
    }
    return id;
  };
  const variantOf = (id: number) => variant(typeOf.get(id)!, constant.has(id) ? USE_ACC : useOf(id));

  // values: their type word (constants are handled with their demands)
  const constUses = new Map<number, Set<Use>>();
  const demandUse = (d: (typeof demands)[number]): Use => d.use ?? (d.node !== undefined ? useOf(d.node) : USE_ACC);
  for (const d of demands) {
    if (!constUses.has(d.id)) constUses.set(d.id, new Set());
    constUses.get(d.id)!.add(demandUse(d));
  }
  const constClone = new Map<string, number>();
  insts.forEach((x, i) => {
    if (SKIP.has(x.op) || TYPE_DECLS(x.op) || x.w.length < 3 || !typeOf.has(x.w[2]) || x.w[1] !== typeOf.get(x.w[2])) return;
    const id = x.w[2], t = typeOf.get(id)!;
    if (!constant.has(id)) {
      x.w[1] = variantOf(id);
      return;
    }
    const uses = [...(constUses.get(id) ?? new Set<Use>([USE_ACC]))].sort();
    uses.forEach((u, k) => {
      const cid = k === 0 ? id : fresh();
      constClone.set(`${id}:${u}`, cid);
      if (k === 0) x.w[1] = variant(t, u);
      else {
        insertAfter(i, { op: x.op, w: [0, variant(t, u), cid, ...x.w.slice(3)] });
        typeOf.set(cid, t);
        constant.add(cid);
      }
    });
  });
  for (const d of demands) d.inst.w[d.word] = constClone.get(`${d.id}:${demandUse(d)}`)!;
  // declared but unused matrix types become accumulators, so no NV type is left
  for (const t of [...nvType.keys(), ...derived.keys()]) if (!variants.get(t)?.size) variant(t, USE_ACC);

  // --- the instructions themselves
  /** The component type of a matrix value (the declaration slot of its base type keeps that word). */
  const componentOf = (id: number) => insts[nvType.get(baseOf(typeOf.get(id)!))!].w[2];
  const layout = (id: number) => {
    const cm = boolConst.get(id);
    if (cm === undefined) refuse(`a load or store's ColumnMajor operand %${id} is not a boolean constant`);
    return uintId(cm ? 1 : 0);
  };
  for (const x of insts) {
    const w = x.w;
    switch (x.op) {
      case OP.Capability: if (w[1] === CAP_NV) w[1] = CAP_KHR; break;
      case OP.Extension: if (decodeString(w, 1) === EXT_NV) x.w = [0, ...encodeString(EXT_KHR)]; break;
      case OP.LoadNV: // type result pointer stride columnMajor [memory access...]
        x.op = OP.LoadKHR;
        x.w = [0, w[1], w[2], w[3], layout(w[5]), w[4], ...w.slice(6)];
        break;
      case OP.StoreNV: // pointer object stride columnMajor [memory access...]
        x.op = OP.StoreKHR;
        x.w = [0, w[1], w[2], layout(w[4]), w[3], ...w.slice(5)];
        break;
      case OP.MulAddNV: { // signed integer components must be said so in KHR (NV implied it)
        x.op = OP.MulAddKHR;
        const sgn = (id: number) => intSigned.get(componentOf(id)) === true;
        const mask = (sgn(w[3]) ? 1 : 0) | (sgn(w[4]) ? 2 : 0) | (sgn(w[5]) ? 4 : 0) | (sgn(w[2]) ? 8 : 0);
        if (mask) w.push(mask);
        break;
      }
      case OP.LengthNV: {
        const m = variants.get(w[3]);
        if (!m || m.size !== 1) refuse(`OpCooperativeMatrixLengthNV %${w[2]}: its matrix type has ${m?.size ?? 0} uses, the length is per use`);
        x.op = OP.LengthKHR;
        w[3] = [...m!.values()][0];
        break;
      }
    }
  }

  // --- reassemble: new constants before the first matrix type, per-use copies after their originals
  const out: Inst[] = [];
  insts.forEach((x, i) => {
    if (i === firstNv) out.push(...constsFirst);
    out.push(x);
    out.push(...(after.get(i) ?? []));
  });
  return assemble(header, out, bound);
}
