/**
 * Where the shaders and their build-time SPIR-V live (shaders/ and build/shaders/ under the package).
 */
import * as fs from 'fs';
import * as path from 'path';
import { VulkanError } from '../errors';
import { packageRoot } from '../native';

/** build/shaders/<name>.spv, e.g. spirvPath('native/scale_bias'). */
export function spirvPath(name: string): string {
  return path.join(packageRoot(), 'build', 'shaders', `${name}.spv`);
}

/** The SPIR-V words glslc built from shaders/<name>.comp. */
export function loadSpirv(name: string): Uint32Array {
  const file = spirvPath(name);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new VulkanError(`SPIR-V for shader '${name}' is missing (${file}); build it with \`npm run build:native\``);
  }
  if (bytes.length % 4 !== 0) throw new VulkanError(`${file} is not a whole number of 32-bit words; rebuild it`);
  const words = new Uint32Array(bytes.length / 4);
  new Uint8Array(words.buffer).set(bytes);
  return words;
}

/** Include directories for runtime GLSL compiles (shaders/common). */
export function shaderIncludeDirs(): string[] {
  return [path.join(packageRoot(), 'shaders', 'common')];
}
