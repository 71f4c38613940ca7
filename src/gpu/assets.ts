/**
 * What vkrt reads at run time, embedded in the package's JavaScript (scripts/embed-assets.cjs writes
 * assets.generated.js beside this file): the GLSL of every shader in shaders/, the shaders/common
 * headers, the SPIR-V glslc built, and the package version. Nothing is read from files beside the
 * package, so an Electron asar archive or a bundle works.
 */
import { VulkanError } from '../errors';

interface Assets {
  version: string;
  /** shaders/<name>.comp by name ('nn/conv'). */
  glsl: Record<string, string>;
  /** shaders/common/<path> by its path there ('vkrt.glsl', 'params/conv_gemm.glsl'). */
  includes: Record<string, string>;
  /** build/shaders/native/<name>.spv as base64, by name ('native/scale_bias'). */
  spirv: Record<string, string>;
}

let assets: Assets | undefined;

/** The embedded assets (loaded on first use). */
export function embeddedAssets(): Assets {
  if (!assets) {
    try {
      // a static string, so bundlers include the module
      assets = require('./assets.generated.js') as Assets;
    } catch (e) {
      throw new VulkanError(`vkrt's embedded shaders are missing (${(e as Error).message.split('\n')[0]}); generate them with \`npm run build:ts\` (or \`node scripts/embed-assets.cjs\`)`);
    }
  }
  return assets;
}

/** The package version (package.json's, as built). */
export function packageVersion(): string {
  return embeddedAssets().version;
}
