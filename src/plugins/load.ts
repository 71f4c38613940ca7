/**
 * Plugin modules (trtexec's --dynamicPlugins, as JavaScript): `vkrt exec --plugins=./my-plugin.js`
 * and string entries of BuilderConfig.plugins name a module that is loaded with require(). The
 * module exports its plugin definitions in any of these forms:
 *   module.exports = { version, domain, opType, inferShape, kernel, ... };   // one plugin
 *   module.exports = [pluginA, pluginB];
 *   module.exports.plugins = [pluginA, pluginB];   (or `export const plugins`, `export default`)
 *   module.exports = (vkrt) => plugin;   // any of the above from vkrt's plugin helpers
 * so a plugin file needs no import of vkrt itself (the function form gets Tensor, f32bits, grid1d).
 */
import * as path from 'path';
import { PluginError } from '../errors';
import { Tensor } from '../ir/tensor';
import { f16Defines, f32bits, grid1d, usesF16 } from '../kernel/contract';
import type { PluginDef } from './types';

/** What a plugin module exported as a function receives: the helpers a kernel and reference need. */
export interface PluginHelpers {
  Tensor: typeof Tensor;
  f32bits: typeof f32bits;
  grid1d: typeof grid1d;
  usesF16: typeof usesF16;
  f16Defines: typeof f16Defines;
}

/** The helpers handed to plugin modules that export a function. */
export const PLUGIN_HELPERS: PluginHelpers = { Tensor, f32bits, grid1d, usesF16, f16Defines };

function isPluginDef(v: unknown): v is PluginDef {
  return !!v && typeof v === 'object' && 'opType' in v && 'kernel' in v;
}

/** The plugin definitions a module exports (see the file comment for the accepted forms). */
export function pluginsOfModule(exported: unknown, file: string): PluginDef[] {
  if (typeof exported === 'function') {
    try {
      exported = (exported as (h: PluginHelpers) => unknown)(PLUGIN_HELPERS);
    } catch (e) {
      throw new PluginError(file, `the module's exported function threw: ${(e as Error).message}`, undefined, { cause: e });
    }
  }
  const e = exported as Record<string, unknown> | undefined;
  const d = e?.default;
  const candidates = [e, e?.plugins, typeof d === 'function' ? (d as (h: PluginHelpers) => unknown)(PLUGIN_HELPERS) : d, (d as Record<string, unknown> | undefined)?.plugins];
  for (const c of candidates) {
    if (isPluginDef(c)) return [c];
    if (Array.isArray(c) && c.length && c.every(isPluginDef)) return c as PluginDef[];
  }
  throw new PluginError(file, 'the module exports no plugin definition (export one { domain, opType, version, inferShape, kernel }, an array of them, or `plugins`)');
}

/**
 * Loads a plugin module. A relative path is resolved against `cwd` (default: the process's working
 * directory), as trtexec resolves --dynamicPlugins.
 * @throws PluginError naming the file when it cannot be loaded or exports no plugin.
 */
export function loadPluginModule(file: string, cwd = process.cwd()): PluginDef[] {
  const abs = path.resolve(cwd, file);
  let exported: unknown;
  try {
    exported = require(abs);
  } catch (e) {
    throw new PluginError(file, `cannot load the plugin module ${abs}: ${(e as Error).message}`, undefined, { cause: e });
  }
  return pluginsOfModule(exported, file);
}

/** Plugin definitions from a mix of definitions and module paths (BuilderConfig.plugins). */
export function resolvePlugins(list: readonly (PluginDef | string)[] | undefined): PluginDef[] {
  return (list ?? []).flatMap((p) => (typeof p === 'string' ? loadPluginModule(p) : [p]));
}
