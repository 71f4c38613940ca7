/**
 * Named shader parameters. A kernel declares the parameter layout of its shader once, here in
 * TypeScript: names and types in order (u32, i32, f32; fixed arrays; optional trailing fields; one
 * repeated per-axis group at the end). The dispatch builder packs values by name
 * (`params: CONV.pack({ C, ID, ... })`), and the GLSL side reads them by name from a header
 * generated from the same layout (shaders/common/params/<layout>.glsl: `#define P_C PARAM(0)`,
 * written by `npm run gen:shaders`, see ./params-glsl.ts). A DispatchDesc still carries plain
 * 32-bit words (`params: number[]`), so both param modes (specialization constants and push
 * constants, shaders/common/vkrt.glsl) and the engine file are as before.
 *
 * Enum codes that TypeScript and GLSL share (reduce ops, activation kinds, modes) are declared the
 * same way, once, with {@link glslEnum}; shaders/common/params/enums.glsl holds their GLSL names.
 *
 * Packing checks what positional arrays could not: every field given, no unknown field, integers
 * in range for their type. Values travel as u32 words: i32 as its two's-complement bits (`v >>> 0`),
 * f32 as its IEEE bits.
 */

/** The 32-bit types a parameter word can hold. */
export type ParamScalar = 'u32' | 'i32' | 'f32';

/**
 * One field of a layout:
 *  - `'u32' | 'i32' | 'f32'`: one word;
 *  - `'u32?'` (and so on): an optional word; optional fields come last, and a packed array ends at
 *    the last one given (every optional field before it must be given too);
 *  - `{ array: 'u32', length: n }`: n words (GLSL: `P_name_0`, `P_name_1`, ...);
 *  - `{ each: { dim: 'u32', ... } }`: a group repeated any number of times (per axis), the last
 *    field of its layout (GLSL: `P_name_dim(k)`, read with a computed k).
 */
export type ParamField =
  | ParamScalar
  | `${ParamScalar}?`
  | { readonly array: ParamScalar; readonly length: number }
  | { readonly each: Readonly<Record<string, ParamScalar>> };

export type ParamFields = Readonly<Record<string, ParamField>>;

type ValueOf<F> = F extends string
  ? number
  : F extends { readonly array: ParamScalar }
    ? readonly number[]
    : F extends { readonly each: infer G }
      ? readonly { readonly [K in keyof G]: number }[]
      : never;
type OptionalKeys<F> = { [K in keyof F]: F[K] extends `${string}?` ? K : never }[keyof F];

/** The values `pack` takes: one per field, by name (optional fields may be left out). */
export type ParamValues<F extends ParamFields> = { readonly [K in Exclude<keyof F, OptionalKeys<F>>]: ValueOf<F[K]> } & {
  readonly [K in OptionalKeys<F>]?: ValueOf<F[K]>;
};

/** A word of a layout as the GLSL generator sees it. */
export interface ParamSlot {
  /** GLSL name without the `P_` prefix (`dims_0` for element 0 of array `dims`). */
  glsl: string;
  field: string;
  type: ParamScalar;
  index: number;
  optional: boolean;
}

/** The repeated group of a layout: `stride` words per entry from `base` on. */
export interface ParamGroup {
  name: string;
  base: number;
  stride: number;
  fields: { name: string; type: ParamScalar; offset: number }[];
}

/** The most params a dispatch can have (specialization constants 0..31; see vkrt.glsl). */
export const MAX_PARAM_WORDS = 32;

const SCALARS: readonly string[] = ['u32', 'i32', 'f32'];
const IDENT = /^[A-Za-z][A-Za-z0-9]*$/;
/** Enum keys may keep an ONNX spelling (`half_pixel`). */
const ENUM_KEY = /^[A-Za-z][A-Za-z0-9_]*$/;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One value as its parameter word; throws naming the layout and field when it does not fit. */
function word(layout: string, field: string, type: ParamScalar, v: unknown): number {
  if (typeof v !== 'number') throw new Error(`param layout '${layout}': field '${field}' must be a number, got ${typeof v}`);
  if (type === 'f32') {
    f32[0] = v;
    return u32[0];
  }
  if (!Number.isInteger(v)) throw new Error(`param layout '${layout}': field '${field}' (${type}) must be an integer, got ${v}`);
  if (type === 'u32' ? v < 0 || v > 0xffffffff : v < -0x80000000 || v > 0x7fffffff) {
    throw new Error(`param layout '${layout}': field '${field}' = ${v} is out of the ${type} range`);
  }
  return v >>> 0;
}

/** A declared parameter layout; see the file comment. */
export class ParamLayout<F extends ParamFields = ParamFields> {
  /** Words before the repeated group (all fixed fields, optional ones included). */
  readonly fixedWords: number;
  readonly slots: readonly ParamSlot[];
  readonly group?: ParamGroup;
  /** Field names in order (the keys `pack` accepts). */
  private readonly order: readonly string[];

  constructor(
    /** Names the generated header shaders/common/params/<name>.glsl. */
    readonly name: string,
    readonly fields: F,
    /** One line on what the layout is for (the header's first comment line). */
    readonly doc = '',
  ) {
    if (!/^[a-z][a-z0-9_]*$/.test(name)) throw new Error(`param layout name '${name}' must be lower_snake_case`);
    const slots: ParamSlot[] = [];
    let index = 0;
    let optionalSeen = false;
    let group: ParamGroup | undefined;
    this.order = Object.keys(fields);
    for (const [fname, spec] of Object.entries(fields)) {
      if (!IDENT.test(fname)) throw new Error(`param layout '${name}': field name '${fname}' must be letters and digits`);
      if (group) throw new Error(`param layout '${name}': the repeated group '${group.name}' must be the last field`);
      if (typeof spec === 'string') {
        const optional = spec.endsWith('?');
        const type = (optional ? spec.slice(0, -1) : spec) as ParamScalar;
        if (!SCALARS.includes(type)) throw new Error(`param layout '${name}': field '${fname}' has unknown type '${spec}'`);
        if (optionalSeen && !optional) throw new Error(`param layout '${name}': required field '${fname}' after an optional one`);
        optionalSeen ||= optional;
        slots.push({ glsl: fname, field: fname, type, index: index++, optional });
      } else if ('array' in spec) {
        if (optionalSeen) throw new Error(`param layout '${name}': array '${fname}' after an optional field`);
        if (!SCALARS.includes(spec.array) || !Number.isInteger(spec.length) || spec.length < 1) throw new Error(`param layout '${name}': bad array '${fname}'`);
        for (let k = 0; k < spec.length; k++) slots.push({ glsl: `${fname}_${k}`, field: fname, type: spec.array, index: index++, optional: false });
      } else {
        if (optionalSeen) throw new Error(`param layout '${name}': group '${fname}' after an optional field`);
        const gfields = Object.entries(spec.each).map(([g, type], offset) => {
          if (!IDENT.test(g) || !SCALARS.includes(type)) throw new Error(`param layout '${name}': bad group field '${fname}.${g}'`);
          return { name: g, type, offset };
        });
        if (!gfields.length) throw new Error(`param layout '${name}': group '${fname}' has no fields`);
        group = { name: fname, base: index, stride: gfields.length, fields: gfields };
      }
    }
    if (index > MAX_PARAM_WORDS) throw new Error(`param layout '${name}' has ${index} words; at most ${MAX_PARAM_WORDS}`);
    this.slots = slots;
    this.group = group;
    this.fixedWords = index;
  }

  /** The index of a scalar field's word (for tests and diagnostics). */
  indexOf(field: keyof F & string): number {
    const s = this.slots.find((x) => x.field === field);
    if (!s) throw new Error(`param layout '${this.name}' has no scalar field '${field}'`);
    return s.index;
  }

  /**
   * The parameter words for `values`, in layout order. Throws (a bug in the kernel, not in the
   * model) when a required field is missing, a field is unknown, an optional field is skipped
   * before a later one that is given, or a value does not fit its type.
   */
  pack(values: ParamValues<F>): number[] {
    const v = values as Readonly<Record<string, unknown>>;
    for (const k of Object.keys(v)) {
      if (!this.order.includes(k)) throw new Error(`param layout '${this.name}' has no field '${k}' (fields: ${this.order.join(', ')})`);
    }
    const given = (k: string) => v[k] !== undefined;
    // the packed array ends at the last optional field given
    let lastOptional = -1;
    this.slots.forEach((s, i) => { if (s.optional && given(s.field)) lastOptional = i; });
    const out: number[] = [];
    for (let i = 0; i < this.slots.length; i++) {
      const s = this.slots[i];
      if (s.optional && i > lastOptional) break;
      const x = v[s.field];
      if (x === undefined) {
        throw new Error(s.optional
          ? `param layout '${this.name}': optional field '${s.field}' is missing while a later one is given`
          : `param layout '${this.name}': field '${s.field}' is missing`);
      }
      if (s.glsl !== s.field) {
        const arr = x as readonly number[];
        const len = this.slots.filter((t) => t.field === s.field).length;
        if (!Array.isArray(arr) || arr.length !== len) throw new Error(`param layout '${this.name}': field '${s.field}' must be an array of ${len} numbers`);
        const k = Number(s.glsl.slice(s.field.length + 1));
        out.push(word(this.name, `${s.field}[${k}]`, s.type, arr[k]));
      } else {
        out.push(word(this.name, s.field, s.type, x));
      }
    }
    const g = this.group;
    if (g) {
      const entries = v[g.name];
      if (entries === undefined) throw new Error(`param layout '${this.name}': field '${g.name}' is missing`);
      if (!Array.isArray(entries)) throw new Error(`param layout '${this.name}': field '${g.name}' must be an array of entries`);
      entries.forEach((e: Readonly<Record<string, unknown>>, j) => {
        if (typeof e !== 'object' || e === null) throw new Error(`param layout '${this.name}': ${g.name}[${j}] must be an object`);
        for (const k of Object.keys(e)) {
          if (!g.fields.some((f) => f.name === k)) throw new Error(`param layout '${this.name}': ${g.name}[${j}] has no field '${k}'`);
        }
        for (const f of g.fields) {
          if (e[f.name] === undefined) throw new Error(`param layout '${this.name}': ${g.name}[${j}].${f.name} is missing`);
          out.push(word(this.name, `${g.name}[${j}].${f.name}`, f.type, e[f.name]));
        }
      });
    }
    return out;
  }

  /** A new layout: these fields, then `more` (for a shader whose params extend another's). */
  extend<G extends ParamFields>(name: string, more: G, doc = ''): ParamLayout<F & G> {
    if (this.group) throw new Error(`param layout '${this.name}' ends in a repeated group and cannot be extended`);
    return paramLayout(name, { ...this.fields, ...more } as F & G, doc);
  }
}

/** The same scalar fields, each optional (`'u32'` -> `'u32?'`). */
export function optional<const F extends Readonly<Record<string, ParamScalar>>>(fields: F): { readonly [K in keyof F]: `${F[K]}?` } {
  return Object.fromEntries(Object.entries(fields).map(([k, t]) => [k, `${t}?`])) as { readonly [K in keyof F]: `${F[K]}?` };
}

/** Every declared layout by name (the header generator and its test read them). */
const layouts = new Map<string, ParamLayout>();

/**
 * Declares the parameter layout `name` (one per shader, or per variant of a shader whose params
 * differ by define). Fields are in word order; see {@link ParamField}.
 */
export function paramLayout<F extends ParamFields>(name: string, fields: F, doc = ''): ParamLayout<F> {
  if (layouts.has(name)) throw new Error(`param layout '${name}' is declared twice`);
  if (name === 'enums') throw new Error("param layout name 'enums' is taken by the shared enums' header");
  const l = new ParamLayout(name, fields, doc);
  layouts.set(name, l as unknown as ParamLayout);
  return l;
}

/** The declared layouts, by name (those of the modules loaded so far). */
export function paramLayouts(): ParamLayout[] {
  return [...layouts.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** A shared TS/GLSL enum: its codes by key, and how GLSL spells them. */
export interface GlslEnum {
  /** GLSL prefix: key `Relu` of enum `ACT` is `ACT_Relu`. */
  name: string;
  /** `uint` for codes compared with uint values (`1u`), `int` for defines tested with #if. */
  type: 'int' | 'uint';
  doc: string;
  codes: Readonly<Record<string, number>>;
}

const enums = new Map<string, GlslEnum>();

/**
 * Declares enum codes shared by TypeScript and GLSL; returns the codes (frozen) for TS use. GLSL
 * reads them as `<name>_<key>` from shaders/common/params/enums.glsl.
 */
export function glslEnum<const C extends Record<string, number>>(name: string, codes: C, type: 'int' | 'uint', doc: string): Readonly<C> {
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`enum name '${name}' must be UPPER_SNAKE_CASE`);
  if (enums.has(name)) throw new Error(`enum '${name}' is declared twice`);
  for (const [k, c] of Object.entries(codes)) {
    if (!ENUM_KEY.test(k) || !Number.isInteger(c) || c < 0) throw new Error(`enum '${name}': bad entry ${k} = ${c}`);
  }
  const frozen = Object.freeze({ ...codes });
  enums.set(name, { name, type, doc, codes: frozen });
  return frozen;
}

/** The declared enums, by name. */
export function glslEnums(): GlslEnum[] {
  return [...enums.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
