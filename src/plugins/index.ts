/** Plugins: operators defined in TypeScript/JavaScript (docs/plugins.md). */
export type { PluginDef, PluginLayout, PluginPrecision, PluginRecord } from './types';
export type { PluginInfo } from './define';
export { pluginOf, pluginOpDef } from './define';
export type { PluginHandle } from './registry';
export { register, registered, registryWithPlugins, shadowReplacedOps, unregister } from './registry';
export { loadPluginModule, PLUGIN_HELPERS, pluginsOfModule, resolvePlugins } from './load';
export type { PluginHelpers } from './load';
