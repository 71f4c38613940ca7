/**
 * A tagged encoding of plain data to JSON plus binary sections, used by the engine file for the
 * EnginePlan. It is generic on purpose: the plan grows fields as the builder grows (fusion views,
 * FP16 weights in Uint16Array, ...), and any new field made of plain data round-trips without this
 * file changing.
 *
 * What it holds: JSON values; `undefined`, NaN, ±Infinity, -0 and bigint (tagged); arrays; plain
 * objects; Map; Set; every typed array (its bytes go to a binary section, the JSON holds the
 * section index); and Tensor (dtype, dims, data). A tagged value is an object with a `$t` key;
 * a plain object that happens to have a `$t` key of its own is wrapped (`{$t: 'object', v}`), so
 * decoding is never ambiguous. Anything else (functions, class instances) is refused when encoding,
 * naming the path, so no field is ever silently lost.
 *
 * Decoding trusts nothing: every malformed value throws EngineFileError('corrupt') naming its path.
 */
import { EngineFileError, UnsupportedError } from '../errors';
import { DType } from '../ir/dtype';
import { allocData, Tensor, TensorData } from '../ir/tensor';

/** The typed arrays the codec stores, by constructor name (the name is what the JSON records). */
const TYPED = {
  Float32Array, Float64Array, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array,
  Int32Array, Uint32Array, BigInt64Array, BigUint64Array,
} as const;
type TypedName = keyof typeof TYPED;
type AnyTyped = InstanceType<(typeof TYPED)[TypedName]>;

/** JSON-compatible value (what `encode` returns). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Result of {@link encodePlainData}: the JSON tree and the binary sections it refers to by index. */
export interface Encoded {
  json: Json;
  /** Section i holds the bytes of the typed array tagged `{$t: 'typed', section: i}`. */
  sections: Uint8Array[];
}

function typedName(v: ArrayBufferView): TypedName | undefined {
  for (const name of Object.keys(TYPED) as TypedName[]) if (v.constructor === TYPED[name]) return name;
  return undefined;
}

/**
 * Encodes `value`. A typed array object referenced twice is stored once (both references decode
 * to one array again).
 * @throws UnsupportedError naming the path of a value it cannot hold (functions, class instances
 *   other than Map, Set, Tensor and typed arrays): a plan field the engine file format must learn.
 */
export function encodePlainData(value: unknown): Encoded {
  const sections: Uint8Array[] = [];
  const seen = new Map<ArrayBufferView, number>();
  const enc = (v: unknown, path: string, depth: number): Json => {
    if (depth > 200) throw new UnsupportedError(`${path}: nested more than 200 levels (a cycle?)`);
    if (v === null) return null;
    switch (typeof v) {
      case 'undefined': return { $t: 'undefined' };
      case 'boolean': case 'string': return v;
      case 'number':
        if (Number.isNaN(v)) return { $t: 'number', v: 'NaN' };
        if (v === Infinity) return { $t: 'number', v: 'Infinity' };
        if (v === -Infinity) return { $t: 'number', v: '-Infinity' };
        if (Object.is(v, -0)) return { $t: 'number', v: '-0' };
        return v;
      case 'bigint': return { $t: 'bigint', v: v.toString() };
      case 'object': break;
      default: throw new UnsupportedError(`${path}: a ${typeof v} cannot be stored in an engine file`);
    }
    const o = v as object;
    if (Array.isArray(o)) {
      // holes read as undefined, which is tagged: arrays keep their length and contents
      return Array.from({ length: o.length }, (_, i) => enc(o[i], `${path}[${i}]`, depth + 1));
    }
    if (ArrayBuffer.isView(o)) {
      const name = typedName(o);
      if (!name) throw new UnsupportedError(`${path}: ${o.constructor.name} cannot be stored in an engine file`);
      let section = seen.get(o);
      if (section === undefined) {
        section = sections.length;
        sections.push(new Uint8Array(o.buffer, o.byteOffset, o.byteLength));
        seen.set(o, section);
      }
      return { $t: 'typed', type: name, section };
    }
    if (o instanceof Map) {
      return { $t: 'map', entries: [...o].map(([k, x], i) => [enc(k, `${path}<key ${i}>`, depth + 1), enc(x, `${path}.get(${String(k)})`, depth + 1)]) };
    }
    if (o instanceof Set) return { $t: 'set', values: [...o].map((x, i) => enc(x, `${path}<value ${i}>`, depth + 1)) };
    if (o instanceof Tensor) {
      return { $t: 'tensor', dtype: o.dtype, dims: [...o.dims], data: enc(o.data, `${path}.data`, depth + 1) };
    }
    const proto = Object.getPrototypeOf(o);
    if (proto !== Object.prototype && proto !== null) {
      throw new UnsupportedError(`${path}: a ${o.constructor?.name ?? 'class instance'} cannot be stored in an engine file (plain data, Map, Set, typed arrays and Tensor only)`);
    }
    const out: { [k: string]: Json } = {};
    for (const [k, x] of Object.entries(o)) out[k] = enc(x, `${path}.${k}`, depth + 1);
    return '$t' in out ? { $t: 'object', v: out } : out;
  };
  return { json: enc(value, 'plan', 0), sections };
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Decodes what {@link encodePlainData} produced. Typed arrays are copied out of their sections (the
 * result does not alias `sections`).
 * @throws EngineFileError('corrupt') naming the path of the first malformed value.
 */
export function decodePlainData(json: unknown, sections: readonly Uint8Array[], file?: string): unknown {
  const bad = (path: string, what: string): never => { throw new EngineFileError('corrupt', `manifest ${path}: ${what}`, file); };
  const decoded = new Map<number, AnyTyped>();
  const dec = (v: unknown, path: string, depth: number): unknown => {
    if (depth > 200) bad(path, 'nested more than 200 levels');
    if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
    if (typeof v === 'number') return Number.isFinite(v) ? v : bad(path, 'not a finite number');
    if (Array.isArray(v)) return v.map((x, i) => dec(x, `${path}[${i}]`, depth + 1));
    if (!isObj(v)) return bad(path, `unexpected ${typeof v}`);
    if (!('$t' in v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === '__proto__') bad(path, "a key named '__proto__'");
        out[k] = dec(x, `${path}.${k}`, depth + 1);
      }
      return out;
    }
    switch (v.$t) {
      case 'undefined': return undefined;
      case 'number':
        switch (v.v) {
          case 'NaN': return NaN;
          case 'Infinity': return Infinity;
          case '-Infinity': return -Infinity;
          case '-0': return -0;
          default: return bad(path, `bad tagged number ${JSON.stringify(v.v)}`);
        }
      case 'bigint':
        if (typeof v.v !== 'string' || !/^-?\d{1,40}$/.test(v.v)) bad(path, 'bad bigint');
        return BigInt(v.v as string);
      case 'typed': {
        const name = v.type as TypedName;
        if (typeof v.type !== 'string' || !Object.prototype.hasOwnProperty.call(TYPED, name)) bad(path, `unknown typed array ${JSON.stringify(v.type)}`);
        const s = v.section;
        if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s >= sections.length) bad(path, `section ${JSON.stringify(s)} does not exist (${sections.length} sections)`);
        const prev = decoded.get(s as number);
        if (prev) {
          if (prev.constructor !== TYPED[name]) bad(path, `section ${s} read as two array types`);
          return prev;
        }
        const C = TYPED[name];
        const bytes = sections[s as number];
        if (bytes.byteLength % C.BYTES_PER_ELEMENT) bad(path, `section ${s} has ${bytes.byteLength} bytes, not a whole number of ${name} elements`);
        const copy = new ArrayBuffer(bytes.byteLength);
        new Uint8Array(copy).set(bytes);
        const arr = new C(copy);
        decoded.set(s as number, arr);
        return arr;
      }
      case 'map': {
        if (!Array.isArray(v.entries)) return bad(path, 'map without entries');
        const m = new Map<unknown, unknown>();
        v.entries.forEach((e, i) => {
          if (!Array.isArray(e) || e.length !== 2) bad(`${path}<entry ${i}>`, 'not a [key, value] pair');
          const k = dec(e[0], `${path}<key ${i}>`, depth + 1);
          m.set(k, dec(e[1], `${path}.get(${String(k)})`, depth + 1));
        });
        return m;
      }
      case 'set':
        if (!Array.isArray(v.values)) return bad(path, 'set without values');
        return new Set(v.values.map((x, i) => dec(x, `${path}<value ${i}>`, depth + 1)));
      case 'tensor': {
        const dims = v.dims;
        if (typeof v.dtype !== 'string') return bad(path, 'tensor without a dtype');
        if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) return bad(path, 'tensor dims are not non-negative integers');
        const data = dec(v.data, `${path}.data`, depth + 1);
        let like: TensorData;
        try {
          like = allocData(v.dtype as DType, 0);
        } catch {
          return bad(path, `unknown dtype ${JSON.stringify(v.dtype)}`);
        }
        const ok = Array.isArray(like) ? Array.isArray(data) && data.every((x) => typeof x === 'string') : ArrayBuffer.isView(data) && data.constructor === like.constructor;
        if (!ok) bad(path, `tensor data does not hold ${v.dtype} elements`);
        try {
          return new Tensor(v.dtype as DType, dims as number[], data as TensorData);
        } catch (e) {
          return bad(path, (e as Error).message);
        }
      }
      case 'object':
        if (!isObj(v.v)) return bad(path, 'escaped object without a value');
        {
          const out: Record<string, unknown> = {};
          for (const [k, x] of Object.entries(v.v)) {
            if (k === '__proto__') bad(path, "a key named '__proto__'");
            out[k] = dec(x, `${path}.${k}`, depth + 1);
          }
          return out;
        }
      default:
        return bad(path, `unknown tag ${JSON.stringify(v.$t)}`);
    }
  };
  return dec(json, 'plan', 0);
}
