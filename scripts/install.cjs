#!/usr/bin/env node
/**
 * npm's install hook for the vkrt package. With a prebuilt addon for this platform
 * (prebuilds/<platform>-<arch>/, found the way node-gyp-build loads it) it does nothing. Otherwise,
 * or with `npm rebuild vkrt --build-from-source`, it builds the addon from source with cmake-js
 * into build/Release/ (where node-gyp-build looks first), and when that cannot work it says exactly
 * what is missing and the command that installs it. In a source checkout (shaders/ present) it
 * does nothing: `npm run build:native` builds there.
 *
 * A failed automatic build does not fail `npm install` (the CPU parts of vkrt work without the addon,
 * and the first GPU call repeats what is missing); a failed `--build-from-source` does.
 */
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const say = (line) => console.error(`vkrt: ${line}`);
const PACKAGES = 'cmake g++ make libvulkan-dev libshaderc-dev glslang-dev spirv-tools';

function fromSourceRequested() {
  const v = process.env.npm_config_build_from_source;
  return v === 'true' || v === 'vkrt';
}

function prebuilt() {
  try {
    return require('node-gyp-build').resolve(root);
  } catch {
    return undefined;
  }
}

/** Runs `cmd --version`; true when it exists on PATH. */
function have(cmd) {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  return !r.error && r.status === 0;
}

function main(explicit) {
  if (fs.existsSync(path.join(root, 'shaders'))) return 0; // a source checkout: npm run build:native
  if (process.env.VKRT_NATIVE) return 0; // the user brings an addon
  const platform = `${process.platform}-${process.arch}`;
  if (!explicit) {
    const file = prebuilt();
    if (file) return 0;
    say(`no prebuilt native addon for ${platform} (prebuilt: linux-x64, linux-arm64 with glibc); building it from source`);
  } else {
    say('building the native addon from source (--build-from-source)');
  }
  const missing = [];
  if (!have('cmake')) missing.push('cmake (>= 3.20)');
  if (!have(process.env.CXX || 'c++') && !have('g++')) missing.push('a C++17 compiler (g++)');
  if (!have('make') && !have('ninja')) missing.push('make or ninja');
  if (missing.length) {
    say(`cannot build from source: ${missing.join(', ')} not found on PATH.`);
    say(`install the build tools with \`sudo apt-get install ${PACKAGES}\` (Debian/Ubuntu), then run \`npm rebuild vkrt --build-from-source\`.`);
    return 1;
  }
  let cmakeJs;
  try {
    cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  } catch {
    say('cannot build from source: cmake-js is not installed; run `npm install cmake-js`, then `npm rebuild vkrt --build-from-source`.');
    return 1;
  }
  // The JavaScript already holds the SPIR-V and GLSL: the addon is all that is built here.
  const r = spawnSync(process.execPath, [cmakeJs, 'build', '--out', 'build', '--CDVKRT_SHADERS=OFF'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    say('the source build failed; the CMake messages above name what is missing (Vulkan headers, libshaderc, glslang, SPIRV-Tools).');
    say(`on Debian/Ubuntu \`sudo apt-get install ${PACKAGES}\` installs all of it; then run \`npm rebuild vkrt --build-from-source\`.`);
    return 1;
  }
  say(`built ${path.join(root, 'build', 'Release', 'vkrt.node')}`);
  return 0;
}

const explicit = fromSourceRequested();
const code = main(explicit);
process.exitCode = explicit ? code : 0;
