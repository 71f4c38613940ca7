/**
 * Where plugins live: `register()` puts a plugin into the default operator registry (every later
 * build, shape inference and interpreter run in the process sees it, as TensorRT's plugin registry
 * does); `registryWithPlugins()` makes a per-build registry for BuilderConfig.plugins without
 * touching the default one; `shadowReplacedOps()` keeps the graph optimizer's hands off nodes a
 * plugin replaces (otherwise a fusion rule could absorb a replaced Relu into a Conv epilogue and
 * the plugin would never run).
 */
import { PluginError } from '../errors';
import { cloneModel, Model } from '../ir/graph';
import { registry as defaultRegistry } from '../ops/index';
import type { OpRegistry } from '../ops/registry';
import type { OpDef } from '../ops/types';
import { pluginLabel, pluginOf, PluginInfo, PluginOpDef, pluginOpDef } from './define';
import type { PluginDef } from './types';

/** What register() replaced, to put back on unregister(). */
const replacedBuiltins = new Map<string, OpDef | undefined>();
const key = (domain: string, opType: string) => `${domain}::${opType}`;

/** Adds `def` to `reg`, refusing to shadow a built-in op unless the plugin says `replaces: true`. */
function install(reg: OpRegistry, def: PluginOpDef): OpDef | undefined {
  const p = def.plugin;
  const old = reg.get(p.domain, p.opType);
  const oldPlugin = pluginOf(old);
  if (old && !oldPlugin && !p.replaces) {
    throw new PluginError(pluginLabel(p), `${p.domain || 'ai.onnx'}::${p.opType} is a built-in operator; set replaces: true to replace it`);
  }
  if (oldPlugin && oldPlugin.name !== p.name) {
    throw new PluginError(pluginLabel(p), `${p.domain || 'ai.onnx'}::${p.opType} is already provided by plugin ${pluginLabel(oldPlugin)}; unregister it first`);
  }
  reg.replace(def);
  return oldPlugin ? undefined : old;
}

/** A registered plugin; unregister() removes it (and puts back the built-in it replaced). */
export interface PluginHandle {
  readonly info: PluginInfo;
  unregister(): void;
}

/**
 * Registers a plugin for the whole process (the default registry): later builds, shape inference
 * and reference runs use it. Registering a plugin of the same name again replaces it (a new
 * version). @throws PluginError when the definition is malformed or would shadow a built-in
 * operator without `replaces: true`.
 */
export function register(plugin: PluginDef): PluginHandle {
  const def = pluginOpDef(plugin);
  const p = def.plugin;
  const k = key(p.domain, p.opType);
  const prev = install(defaultRegistry, def);
  if (!replacedBuiltins.has(k)) replacedBuiltins.set(k, prev);
  return {
    info: p,
    unregister: () => {
      if (defaultRegistry.get(p.domain, p.opType) !== def) return; // replaced or removed since
      const builtin = replacedBuiltins.get(k);
      replacedBuiltins.delete(k);
      if (builtin) defaultRegistry.replace(builtin);
      else defaultRegistry.remove(p.domain, p.opType);
    },
  };
}

/** Removes the plugin registered for an operator (a no-op when none is); true when one was removed. */
export function unregister(domain: string, opType: string): boolean {
  const d = domain === 'ai.onnx' ? '' : domain;
  const def = defaultRegistry.get(d, opType);
  if (!pluginOf(def)) return false;
  const k = key(d, opType);
  const builtin = replacedBuiltins.get(k);
  replacedBuiltins.delete(k);
  if (builtin) defaultRegistry.replace(builtin);
  else defaultRegistry.remove(d, opType);
  return true;
}

/** The plugins in a registry (default: the process-wide one). */
export function registered(reg: OpRegistry = defaultRegistry): PluginInfo[] {
  return reg.list().map(pluginOf).filter((p): p is PluginInfo => !!p);
}

/** `base` plus the given plugins, as a new registry (base is not changed); base itself when none. */
export function registryWithPlugins(base: OpRegistry, plugins: readonly PluginDef[] | undefined): OpRegistry {
  if (!plugins?.length) return base;
  const reg = base.clone();
  for (const p of plugins) install(reg, pluginOpDef(p));
  return reg;
}

/** The internal domain a replaced built-in's nodes move to while a build optimizes the graph. */
export function shadowDomain(domain: string): string {
  return domain ? `vkrt.plugin.${domain}` : 'vkrt.plugin';
}

/**
 * When plugins in `reg` replace built-in operators: a copy of the model whose nodes of those
 * operators sit in a shadow domain (so no fusion or folding rule matches them), and a registry that
 * resolves the shadow domain to the plugin. Otherwise the model and registry unchanged.
 */
export function shadowReplacedOps(model: Model, reg: OpRegistry): { model: Model; registry: OpRegistry } {
  const replaced = reg.list().filter((d) => pluginOf(d)?.replaces) as PluginOpDef[];
  const byKey = new Map(replaced.map((d) => [key(d.plugin.domain, d.plugin.opType), d]));
  if (!byKey.size || !model.graph.nodes.some((n) => byKey.has(key(n.domain, n.opType)))) return { model, registry: reg };
  const registry = reg.clone();
  for (const d of replaced) registry.replace({ ...d, domain: shadowDomain(d.plugin.domain) } as PluginOpDef);
  const m = cloneModel(model, (n) => (byKey.has(key(n.domain, n.opType)) ? shadowDomain(n.domain) : n.domain));
  for (const d of replaced) m.opsets.set(shadowDomain(d.plugin.domain), model.opsets.get(d.plugin.domain) ?? 0);
  return { model: m, registry };
}
