#!/usr/bin/env node
/**
 * The packaging test, as a new user meets vkrt: `npm pack` (prepack builds dist/ and the x64
 * prebuild), check what the tarball holds, `npm install` it into a fresh app with no compiler on
 * PATH, and run mnist-8 (from .data/models) through the public API from CommonJS, ESM and
 * TypeScript (compiled with strict settings against the shipped .d.ts files), with a check that
 * nothing but modules and the addon is read from the package at run time.
 *
 *   node scripts/test-package.mjs                 # npm run test:package
 *   VKRT_PACKAGE_NODE="qemu-aarch64 -L ROOT ROOT/usr/bin/node" node scripts/test-package.mjs
 *                                                 # run the app with another Node (scripts/arm64/test.sh)
 *   VKRT_PACKAGE_TARBALL=vkrt-0.1.0.tgz ...       # reuse a tarball instead of packing
 * Prints the tarball size, the install time and one line per check; exits 1 on a failure.
 */
import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { fileURLToPath } from 'url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vkrt-package-'));
const runner = (process.env.VKRT_PACKAGE_NODE || process.execPath).split(' ');
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'PASS' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

try {
  // 1. the tarball
  let tarball = process.env.VKRT_PACKAGE_TARBALL && path.resolve(process.env.VKRT_PACKAGE_TARBALL);
  if (!tarball) {
    const t0 = Date.now();
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const info = JSON.parse(out)[0];
    tarball = path.join(tmp, info.filename);
    console.log(`npm pack: ${info.filename}, ${(info.size / 1048576).toFixed(2)} MiB packed, ${(info.unpackedSize / 1048576).toFixed(2)} MiB unpacked, ${info.entryCount} files (${((Date.now() - t0) / 1000).toFixed(1)} s with prepack)`);
    const files = info.files.map((f) => f.path);
    check(files.includes('LICENSE') && files.includes('package.json') && files.includes('README.md'), 'the tarball has LICENSE, README.md, package.json');
    check(files.includes('prebuilds/linux-x64/node.napi.glibc.node') && files.includes('prebuilds/linux-arm64/node.napi.glibc.node'), 'prebuilt addons for linux-x64 and linux-arm64');
    check(files.includes('dist/gpu/assets.generated.js'), 'the embedded shaders (dist/gpu/assets.generated.js)');
    const bad = files.filter((f) => /\.map$|^dist\/bench\/|^scripts\/(?!install\.cjs$)|^shaders\/|^build\/|^src\/|^test\//.test(f));
    check(bad.length === 0, `no source maps, bench, setup scripts, shaders/, build/, src/ or test/ (${bad.slice(0, 3).join(', ') || 'none'})`);
  } else console.log(`tarball: ${tarball} (${(fs.statSync(tarball).size / 1048576).toFixed(2)} MiB)`);

  // 2. install into a fresh app, with a PATH that holds node, npm and sh only
  const app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true }));
  const bin = path.join(tmp, 'bin');
  fs.mkdirSync(bin);
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npm runs install scripts through sh
  const npmCli = execFileSync('npm', ['prefix', '-g'], { encoding: 'utf8' }).trim();
  fs.symlinkSync(path.join(npmCli, 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'), path.join(bin, 'npm'));
  const env = { ...process.env, PATH: bin };
  for (const tool of ['cc', 'c++', 'g++', 'gcc', 'cmake', 'make']) {
    check(spawnSync('sh', ['-c', `command -v ${tool}`], { env }).status !== 0, `no ${tool} on the install's PATH`);
  }
  const t0 = Date.now();
  const inst = spawnSync(path.join(bin, 'node'), [path.join(bin, 'npm'), 'install', '--no-audit', '--no-fund', tarball], { cwd: app, env, encoding: 'utf8' });
  const installS = (Date.now() - t0) / 1000;
  check(inst.status === 0, `npm install of the tarball: ${installS.toFixed(1)} s${inst.status ? `\n${inst.stdout}\n${inst.stderr}` : ''}`);
  check(!fs.existsSync(path.join(app, 'node_modules', 'vkrt', 'build')), 'nothing was compiled (no node_modules/vkrt/build)');

  // 3. the app: mnist-8 from CJS, ESM and TypeScript
  const mnist = path.join(root, '.data', 'models', 'mnist-8');
  const pb = (f) => JSON.stringify(path.join(mnist, 'test_data_set_0', f));
  const body = (vkrt) => `
    const fs = require('fs');
    const x = ${vkrt}.parseTensor(fs.readFileSync(${pb('input_0.pb')}));
    const want = ${vkrt}.parseTensor(fs.readFileSync(${pb('output_0.pb')}));
    const session = await ${vkrt}.InferenceSession.create(${JSON.stringify(path.join(mnist, 'model.onnx'))});
    const input = new ${vkrt}.Tensor('float32', x.data, x.dims);
    const out = await session.run({ [session.inputNames[0]]: input });
    const y = out[session.outputNames[0]].data;
    const argmax = (a) => Array.from(a).indexOf(Math.max(...a));
    const err = Math.max(...Array.from(y, (v, i) => Math.abs(v - want.data[i])));
    await session.release();
    if (argmax(y) !== argmax(want.data) || err > 1e-2) throw new Error('wrong answer: ' + argmax(y) + ' vs ' + argmax(want.data) + ', max error ' + err);
    console.log('mnist-8 class ' + argmax(y) + ', max abs error ' + err.toExponential(2));`;
  // records files read from the package that are not modules or the addon (there should be none)
  fs.writeFileSync(path.join(app, 'watch-reads.cjs'), `
    const fs = require('fs'); const pkg = require('path').join(__dirname, 'node_modules', 'vkrt') + '/';
    for (const name of ['readFileSync', 'openSync', 'readFile', 'createReadStream']) {
      const orig = fs[name];
      fs[name] = function (p, ...rest) {
        const s = String(p);
        if (s.startsWith(pkg) && !/\\.(c?js|json|node)$/.test(s)) { process.exitCode = 3; console.error('read from the package: ' + s); }
        return orig.call(this, p, ...rest);
      };
    }`);
  fs.writeFileSync(path.join(app, 'main.cjs'), `const vkrt = require('vkrt');\n(async () => {${body('vkrt')}\n})().catch((e) => { console.error(e); process.exit(1); });\n`);
  fs.writeFileSync(path.join(app, 'main.mjs'), `import * as vkrt from 'vkrt';\nimport { Device } from 'vkrt/gpu';\nimport { createRequire } from 'module';\nconst require = createRequire(import.meta.url);\nif (typeof Device.list !== 'function') throw new Error('vkrt/gpu');\n${body('vkrt')}\n`);
  fs.writeFileSync(path.join(app, 'main.ts'), `import * as fs from 'fs';
import { InferenceSession, Tensor, parseTensor, float16Bits, type ValueMetadata } from 'vkrt';
import { Device } from 'vkrt/gpu';
async function main(): Promise<void> {
  const x = parseTensor(fs.readFileSync(${pb('input_0.pb')}));
  const session = await InferenceSession.create(${JSON.stringify(path.join(mnist, 'model.onnx'))}, { progress: (p) => void p.fraction });
  const meta: readonly ValueMetadata[] = session.inputMetadata;
  const out = await session.run({ [meta[0].name]: new Tensor('float32', x.data as Float32Array, x.dims) }, [session.outputNames[0]]);
  const y = out[session.outputNames[0]].data as Float32Array;
  console.log('mnist-8 (TypeScript) class ' + y.indexOf(Math.max(...y)) + ', ' + Device.list().length + ' device(s), ' + float16Bits([1]).length);
  await session.release();
}
main().catch((e) => { console.error(e); process.exit(1); });
`);
  fs.writeFileSync(path.join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, skipLibCheck: false, outDir: 'ts-out', typeRoots: [path.join(root, 'node_modules', '@types')], types: ['node'] },
    files: ['main.ts'],
  }));
  const tsc = spawnSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', app], { cwd: app, encoding: 'utf8' });
  check(tsc.status === 0, `TypeScript (strict, node16 resolution, skipLibCheck false) compiles against the shipped types${tsc.status ? `\n${tsc.stdout}${tsc.stderr}` : ''}`);
  const run = (file) => spawnSync(runner[0], [...runner.slice(1), '--require', './watch-reads.cjs', file], { cwd: app, encoding: 'utf8', env: process.env });
  for (const [what, file] of [['CommonJS', 'main.cjs'], ['ESM', 'main.mjs'], ['TypeScript', 'ts-out/main.js']]) {
    if (!fs.existsSync(path.join(app, file))) { check(false, `${what}: ${file} missing`); continue; }
    const t1 = Date.now();
    const r = run(file);
    check(r.status === 0, `${what}: ${(r.stdout || '').trim() || 'no output'} (${((Date.now() - t1) / 1000).toFixed(1)} s)${r.status ? `\n${r.stderr}` : ''}`);
  }
  // the CLI from the package's bin
  const cli = spawnSync(runner[0], [...runner.slice(1), path.join(app, 'node_modules', 'vkrt', 'dist', 'cli', 'main.js'), '--version'], { encoding: 'utf8' });
  check(cli.status === 0 && cli.stdout.trim() === JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version, `vkrt --version from the installed package: ${cli.stdout.trim()}`);
} finally {
  if (!process.env.VKRT_PACKAGE_KEEP) fs.rmSync(tmp, { recursive: true, force: true });
  else console.log(`kept ${tmp}`);
}
console.log(failures ? `package test: ${failures} check(s) FAILED` : 'package test: all checks passed');
process.exitCode = failures ? 1 : 0;
