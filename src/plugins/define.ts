/**
 * A plugin definition as an operator definition: the same OpDef the built-in operators are, with
 * every call into plugin code wrapped so a failure names the plugin, the node and what was running
 * (shape function, reference, kernel), and with the kernel's output checked before the builder
 * sees it.
 */
import { PluginError, UnsupportedError, VkrtError } from '../errors';
import type { Node } from '../ir/graph';
import { Tensor } from '../ir/tensor';
import { KernelContext, KernelImpl, usesF16, withF16 } from '../kernel/contract';
import type { OpDef } from '../ops/types';
import type { PluginDef, PluginPrecision } from './types';

/** Name, version and op of a plugin, as engines record them. */
export interface PluginInfo {
  name: string;
  version: string;
  domain: string;
  opType: string;
  /** True when the plugin replaces an operator vkrt implements. */
  replaces: boolean;
}

/** An OpDef made from a plugin. */
export interface PluginOpDef extends OpDef {
  readonly plugin: PluginInfo;
  readonly source: PluginDef;
}

/** The plugin behind an operator definition, if it is one. */
export function pluginOf(def: OpDef | undefined): PluginInfo | undefined {
  return def && 'plugin' in def ? (def as PluginOpDef).plugin : undefined;
}

/** `name@version`, as errors print a plugin. */
export function pluginLabel(p: { name: string; version: string }): string {
  return `'${p.name}' (version ${p.version})`;
}

/** The domain key vkrt uses: '' for the default ONNX domain. */
export function normDomain(domain: string | undefined): string {
  return !domain || domain === 'ai.onnx' ? '' : domain;
}

function versionRange(v: PluginDef['versions']): [number, number] {
  if (v === undefined) return [0, Infinity];
  if (typeof v === 'number') return [v, v];
  return [v[0], v[1] ?? Infinity];
}

/**
 * Checks a definition and turns it into an OpDef.
 * @throws PluginError naming the plugin when a required field is missing or malformed.
 */
export function pluginOpDef(p: PluginDef): PluginOpDef {
  if (!p || typeof p !== 'object') throw new PluginError('(unnamed)', 'a plugin definition must be an object ({ domain, opType, version, inferShape, kernel })');
  const domain = normDomain(p.domain);
  const name = p.name ?? `${domain || 'ai.onnx'}::${p.opType}`;
  const label = typeof p.version === 'string' ? pluginLabel({ name, version: p.version }) : `'${name}'`;
  const bad = (m: string): never => { throw new PluginError(label, m); };
  if (typeof p.opType !== 'string' || !p.opType) bad('opType must be a non-empty string');
  if (typeof p.domain !== 'string') bad("domain must be a string ('' or 'ai.onnx' for the default domain, e.g. 'com.example' for a custom one)");
  if (typeof p.version !== 'string' || !p.version) bad("version must be a non-empty string (e.g. '1.0.0'); engines record it");
  if (typeof p.inferShape !== 'function') bad('inferShape(ctx, inputs) is required: the builder needs the output shapes');
  if (typeof p.kernel !== 'function') bad('kernel(ctx) is required: it returns the dispatches that run the operator');
  if (p.reference !== undefined && typeof p.reference !== 'function') bad('reference must be a function');
  const precisions = p.precisions ?? ['fp32'];
  if (!Array.isArray(precisions) || !precisions.length || precisions.some((x) => x !== 'fp32' && x !== 'fp16')) bad("precisions must list 'fp32' and/or 'fp16'");
  if (!precisions.includes('fp32')) bad("precisions must include 'fp32' (FP16 engines fall back to FP32 per layer, FP32 engines need it)");
  const layouts = p.layouts ?? ['linear'];
  if (!Array.isArray(layouts) || !layouts.length || layouts.some((l) => l !== 'linear')) bad(`layouts: vkrt keeps every tensor dense row-major ('linear'); a plugin must accept it (got ${JSON.stringify(layouts)})`);
  const [lo, hi] = versionRange(p.versions);
  if (!(lo >= 0) || !(hi >= lo)) bad(`versions ${JSON.stringify(p.versions)} is not a version or a [first, last] range`);
  const info: PluginInfo = { name, version: p.version, domain, opType: p.opType, replaces: !!p.replaces };
  const fp16 = (precisions as readonly PluginPrecision[]).includes('fp16');

  /** Runs plugin code, turning whatever it throws into a PluginError naming `what`. */
  const guard = <T>(node: Node, what: string, fn: () => T): T => {
    try {
      return fn();
    } catch (e) {
      if (e instanceof PluginError) throw e;
      const msg = e instanceof VkrtError ? e.message.replace(/^node '[^']*' \([^)]*\): /, '') : String((e as Error)?.message ?? e);
      throw new PluginError(label, `${what} threw: ${msg}`, node, { cause: e });
    }
  };
  const checkOpset = (node: Node, opset: number): void => {
    if (opset < lo || opset > hi) {
      const range = hi === Infinity ? `${lo} and later` : lo === hi ? `${lo}` : `${lo} to ${hi}`;
      throw new UnsupportedError(`plugin ${label} implements ${domain || 'ai.onnx'} opset ${range}; the model imports opset ${opset}`, node);
    }
  };

  const def: PluginOpDef = {
    opType: p.opType,
    domain,
    plugin: info,
    source: p,
    inferShape(ctx, inputs) {
      checkOpset(ctx.node, ctx.opset);
      const out = guard(ctx.node, 'its shape function (inferShape)', () => p.inferShape(ctx, inputs));
      if (!Array.isArray(out)) throw new PluginError(label, `inferShape returned ${typeof out}, not an array of output types`, ctx.node);
      const want = ctx.node.outputs.length;
      if (out.length < want) throw new PluginError(label, `inferShape returned ${out.length} output type(s); the node has ${want} output(s)`, ctx.node);
      out.forEach((t, k) => {
        if (!t || typeof t.dtype !== 'string') throw new PluginError(label, `inferShape's output ${k} has no dtype`, ctx.node);
      });
      return out;
    },
    reference(ctx, inputs) {
      if (!p.reference) throw new UnsupportedError(`plugin ${label} has no reference implementation: the CPU interpreter cannot run it (the GPU can)`, ctx.node);
      checkOpset(ctx.node, ctx.opset);
      const out = guard(ctx.node, 'its reference', () => p.reference!(ctx, inputs));
      if (!Array.isArray(out) || out.some((t) => !(t instanceof Tensor))) throw new PluginError(label, 'reference must return an array of Tensors', ctx.node);
      return out;
    },
    kernel(ctx: KernelContext): KernelImpl[] {
      checkOpset(ctx.node, ctx.opset);
      const f16 = usesF16(ctx);
      // FP16 storage only for plugins that declare it: the builder then runs the layer in FP32.
      if (f16 && !fp16) return [];
      const got = guard(ctx.node, 'its kernel', () => p.kernel(ctx));
      const impls = Array.isArray(got) ? got : [got];
      impls.forEach((impl, i) => checkImpl(label, ctx, impl, i));
      const named = impls.map((impl) => ({
        ...impl,
        dispatches: impl.dispatches.map((d, k) => ({ ...d, shader: `plugin:${name}/${d.shader || `${impl.name}_${k}`}` })),
      }));
      return fp16 ? withF16(named, ctx) : named;
    },
  };
  return def;
}

/** Checks one tactic's shape before the builder uses it (a malformed one names the plugin). */
function checkImpl(label: string, ctx: KernelContext, impl: KernelImpl, i: number): void {
  const bad = (m: string): never => { throw new PluginError(label, `kernel tactic ${i}${impl && typeof impl.name === 'string' ? ` '${impl.name}'` : ''}: ${m}`, ctx.node); };
  if (!impl || typeof impl !== 'object') bad('not an object ({ name, dispatches })');
  if (typeof impl.name !== 'string' || !impl.name) bad('needs a name (build logs, inspect and kernel selection use it)');
  if (!Array.isArray(impl.dispatches) || !impl.dispatches.length) bad('needs at least one dispatch');
  const nw = impl.weights?.length ?? 0, ns = impl.scratch?.length ?? 0;
  impl.dispatches.forEach((d, k) => {
    const at = `dispatch ${k}: `;
    if (typeof d.source !== 'string' || !d.source.trim()) bad(`${at}needs its GLSL in 'source' (compiled when the engine is built)`);
    if (!Array.isArray(d.params) || d.params.length > 32 || d.params.some((v) => !Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 32)) bad(`${at}params must be at most 32 32-bit integers (floats through f32bits)`);
    const okDims = (v: unknown) => Array.isArray(v) && v.length === 3 && v.every((x) => Number.isInteger(x) && x >= 1);
    if (!okDims(d.workgroup)) bad(`${at}workgroup must be [x, y, z] positive integers`);
    if (!okDims(d.groups)) bad(`${at}groups must be [x, y, z] positive integers`);
    if (!Array.isArray(d.bindings)) bad(`${at}bindings must be an array`);
    d.bindings.forEach((b, j) => {
      const ok = ('input' in b && Number.isInteger(b.input) && b.input >= 0 && b.input < ctx.inputs.length && !!ctx.inputs[b.input])
        || ('output' in b && Number.isInteger(b.output) && b.output >= 0 && b.output < ctx.outputs.length)
        || ('weight' in b && Number.isInteger(b.weight) && b.weight >= 0 && b.weight < nw)
        || ('scratch' in b && Number.isInteger(b.scratch) && b.scratch >= 0 && b.scratch < ns);
      if (!ok) bad(`${at}binding ${j} (${JSON.stringify(b)}) refers to no input, output, weight or scratch buffer of this node`);
    });
  });
}
