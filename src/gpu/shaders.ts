/**
 * vkrt's shaders as the package carries them (embedded: see assets.ts): the SPIR-V glslc built from
 * shaders/, the GLSL of every shader and the shaders/common headers for run-time compiles.
 */
import { VulkanError } from '../errors';
import { embeddedAssets } from './assets';

/** The SPIR-V words glslc built from shaders/native/<name>.comp, e.g. loadSpirv('native/scale_bias'). */
export function loadSpirv(name: string): Uint32Array {
  const all = embeddedAssets().spirv;
  const b64 = Object.prototype.hasOwnProperty.call(all, name) ? all[name] : undefined;
  if (b64 === undefined) {
    throw new VulkanError(`SPIR-V for shader '${name}' is not in this build of vkrt; build it with \`npm run build:native\` then \`npm run build:ts\``);
  }
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length % 4 !== 0) throw new VulkanError(`the embedded SPIR-V of '${name}' is not a whole number of 32-bit words; rebuild it`);
  const words = new Uint32Array(bytes.length / 4);
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

/** The GLSL source of shaders/<name>.comp, or undefined when there is no such shader. */
export function shaderSource(name: string): string | undefined {
  const all = embeddedAssets().glsl;
  return Object.prototype.hasOwnProperty.call(all, name) ? all[name] : undefined;
}

/** The shaders/common headers as (file name, source) pairs: the include path of run-time compiles. */
export function shaderIncludes(): [string, string][] {
  return Object.entries(embeddedAssets().includes);
}
