/**
 * Plugin modules (trtexec's --dynamicPlugins, as JavaScript): `vkrt exec --plugins=./my-plugin.js`
 * and string entries of BuilderConfig.plugins name a module that is loaded with require(). The
 * module exports its plugin definitions in any of these forms:
 *   module.exports = { version, domain, opType, inferShape, kernel, ... };   // one plugin
 *   module.exports = [pluginA, pluginB];
 *   module.exports.plugins = [pluginA, pluginB];   (or `export const plugins`, `export default`)
 * so a plugin file needs no import of vkrt itself (it may import it for helpers such as f32bits).
 */
import * as path from 'path';
import { PluginError } from '../errors';
import type { PluginDef } from './types';

function isPluginDef(v: unknown): v is PluginDef {
  return !!v && typeof v === 'object' && 'opType' in v && 'kernel' in v;
}

/** The plugin definitions a module exports (see the file comment for the accepted forms). */
export function pluginsOfModule(exported: unknown, file: string): PluginDef[] {
  const e = exported as Record<string, unknown> | undefined;
  const candidates = [e, e?.plugins, e?.default, (e?.default as Record<string, unknown> | undefined)?.plugins];
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
