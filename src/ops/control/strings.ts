/**
 * String operators: StringConcat, StringSplit, StringNormalizer, RegexFullMatch. Strings are
 * string[] host data; none of these run on the GPU, so the reference is also the implementation.
 */
import { Tensor } from '../../ir/tensor';
import { OpContext, OpDef, ShapeContext } from '../types';
import { broadcastDims, broadcastIndex, broadcastShapes } from '../util/shape';
import { checkDims } from '../util/control-tensor';

function strings(ctx: OpContext, t: Tensor | undefined, what: string): Tensor & { data: string[] } {
  if (!t) ctx.fail(`${what} is required`);
  if (t.dtype !== 'string') ctx.fail(`${what} must be a string tensor, got ${t.dtype}`);
  return t as Tensor & { data: string[] };
}

export const StringConcat: OpDef = {
  opType: 'StringConcat',
  sinceVersion: 20,
  inferShape(ctx: ShapeContext, [a, b]) {
    if (!a?.shape || !b?.shape) return [{ dtype: 'string', shape: undefined }];
    try {
      return [{ dtype: 'string', shape: broadcastDims(a.shape, b.shape) }];
    } catch (e) {
      ctx.fail((e as Error).message);
    }
  },
  reference(ctx: OpContext, [a, b]) {
    const x = strings(ctx, a, 'X'), y = strings(ctx, b, 'Y');
    let dims: number[];
    try {
      dims = broadcastShapes(x.dims, y.dims);
    } catch (e) {
      ctx.fail((e as Error).message);
    }
    checkDims(dims, ctx.fail);
    const ia = broadcastIndex(x.dims, dims), ib = broadcastIndex(y.dims, dims);
    const out = new Array<string>(ia.length);
    for (let i = 0; i < out.length; i++) out[i] = x.data[ia[i]] + y.data[ib[i]];
    return [new Tensor('string', dims, out)];
  },
};

/** Python's str.split(sep, maxsplit), which ONNX StringSplit follows (sep '' or absent: whitespace runs). */
export function pySplit(s: string, sep: string | undefined, maxsplit: number | undefined): string[] {
  const limit = maxsplit === undefined || maxsplit < 0 ? Infinity : maxsplit;
  const out: string[] = [];
  if (sep) {
    let start = 0;
    while (out.length < limit) {
      const i = s.indexOf(sep, start);
      if (i < 0) break;
      out.push(s.slice(start, i));
      start = i + sep.length;
    }
    out.push(s.slice(start));
    return out;
  }
  const ws = /\s/;
  let i = 0;
  const n = s.length;
  while (true) {
    while (i < n && ws.test(s[i])) i++;
    if (i >= n) break;
    if (out.length >= limit) {
      out.push(s.slice(i));
      break;
    }
    let j = i;
    while (j < n && !ws.test(s[j])) j++;
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

export const StringSplit: OpDef = {
  opType: 'StringSplit',
  sinceVersion: 20,
  inferShape(_ctx: ShapeContext, [x]) {
    return [{ dtype: 'string', shape: x?.shape ? [...x.shape, 'max_splits'] : undefined }, { dtype: 'int64', shape: x?.shape }];
  },
  reference(ctx: OpContext, [xT]) {
    const x = strings(ctx, xT, 'X');
    const delimiter = ctx.attrs.has('delimiter') ? ctx.attrs.string('delimiter') : undefined;
    const maxsplit = ctx.attrs.optInt('maxsplit');
    const parts = x.data.map((s) => pySplit(s, delimiter, maxsplit));
    const width = parts.reduce((m, p) => Math.max(m, p.length), 0);
    const dims = [...x.dims, width];
    checkDims(dims, ctx.fail);
    const out = new Array<string>(parts.length * width).fill('');
    parts.forEach((p, i) => p.forEach((s, k) => (out[i * width + k] = s)));
    return [new Tensor('string', dims, out), Tensor.from('int64', x.dims, parts.map((p) => p.length))];
  },
};

export const StringNormalizer: OpDef = {
  opType: 'StringNormalizer',
  inferShape(_ctx: ShapeContext, [x]) {
    return [{ dtype: 'string', shape: x?.shape?.length === 2 ? [1, 'C'] : ['C'] }];
  },
  reference(ctx: OpContext, [xT]) {
    const x = strings(ctx, xT, 'X');
    const action = ctx.attrs.string('case_change_action', 'NONE');
    const caseSensitive = ctx.attrs.int('is_case_sensitive', 0);
    const stopwords = ctx.attrs.strings('stopwords', []);
    ctx.attrs.string('locale', 'en_US'); // JS case mapping is locale-independent (matches en_US)
    if (!['NONE', 'LOWER', 'UPPER'].includes(action)) ctx.fail(`case_change_action must be NONE, LOWER or UPPER, got '${action}'`);
    const twoD = x.dims.length === 2;
    if (!(x.dims.length === 1 || (twoD && x.dims[0] === 1))) ctx.fail(`input must be [C] or [1, C], got [${x.dims.join(',')}]`);
    const key = (s: string) => (caseSensitive ? s : s.toLowerCase());
    const stop = new Set(stopwords.map(key));
    let kept = x.data.filter((s) => !stop.has(key(s)));
    if (action === 'LOWER') kept = kept.map((s) => s.toLowerCase());
    if (action === 'UPPER') kept = kept.map((s) => s.toUpperCase());
    if (!kept.length) kept = [''];
    return [new Tensor('string', twoD ? [1, kept.length] : [kept.length], kept)];
  },
};

/**
 * Translate an RE2 pattern to a JS RegExp for a full match. Handles the RE2 spellings JS lacks:
 * (?P<name>...), \A, \z, leading inline flags (?i)(?s) ((?m) and (?U) are refused), \pL one-letter classes.
 * Refused (UnsupportedError): POSIX classes [[:alpha:]], \Q...\E, \C, and the constructs RE2
 * rejects but JS accepts (backreferences, lookaround), since their result would differ from onnxruntime.
 */
export function re2ToRegExp(pattern: string, unsupported: (m: string) => never): RegExp {
  let p = pattern;
  let flags = '';
  const lead = /^\(\?([imsU]+)\)/.exec(p);
  if (lead) {
    if (lead[1].includes('U')) unsupported('the RE2 flag (?U) (ungreedy) has no JS equivalent');
    if (lead[1].includes('m')) unsupported('the RE2 flag (?m) is not supported by the full-match translation');
    flags += [...new Set(lead[1])].join('');
    p = p.slice(lead[0].length);
  }
  if (/\[\[:\^?[a-z]+:\]\]|\[:\^?[a-z]+:\]/.test(p)) unsupported('POSIX character classes ([[:alpha:]]) are not supported; use \\w, \\d or explicit ranges');
  if (/\\Q|\\C/.test(p)) unsupported('\\Q...\\E and \\C are not supported');
  if (/\(\?[=!]|\(\?<[=!]/.test(p)) unsupported('lookaround is not valid RE2');
  if (/\\[1-9]|\\k</.test(p)) unsupported('backreferences are not valid RE2');
  if (/\(\?[a-zA-Z-]+[:)]/.test(p)) unsupported('inline flags inside the pattern are not supported; put them at the start');
  p = p.replace(/\(\?P</g, '(?<').replace(/\\A/g, '^').replace(/\\z/g, '$').replace(/\\([pP])([A-Za-z])/g, '\\$1{$2}');
  const src = `^(?:${p})$`;
  try {
    return new RegExp(src, flags + 'u');
  } catch {
    try {
      return new RegExp(src, flags);
    } catch (e) {
      unsupported(`pattern is not a regular expression vkrt can run: ${(e as Error).message}`);
    }
  }
}

export const RegexFullMatch: OpDef = {
  opType: 'RegexFullMatch',
  sinceVersion: 20,
  inferShape(_ctx: ShapeContext, [x]) {
    return [{ dtype: 'bool', shape: x?.shape }];
  },
  reference(ctx: OpContext, [xT]) {
    const x = strings(ctx, xT, 'X');
    const re = re2ToRegExp(ctx.attrs.string('pattern'), ctx.unsupported);
    return [Tensor.from('bool', x.dims, x.data.map((s) => re.test(s)))];
  },
};

export const STRING_OPS: OpDef[] = [StringConcat, StringSplit, StringNormalizer, RegexFullMatch];
