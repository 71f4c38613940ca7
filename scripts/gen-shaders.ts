/**
 * `npm run gen:shaders`: writes the GLSL headers generated from the TypeScript parameter layouts
 * and shared enums (src/kernel/params.ts, src/kernel/params-glsl.ts) to shaders/common/params/,
 * removing headers no layout declares any more. `--check` only compares and exits 1 on a difference.
 */
import * as fs from 'fs';
import * as path from 'path';
import '../src/ops'; // every kernel module, so every layout and enum is declared
import { GENERATED_DIR, generatedShaderFiles } from '../src/kernel/params-glsl';

const root = path.join(__dirname, '..');
const check = process.argv.includes('--check');
const files = generatedShaderFiles();
const dir = path.join(root, GENERATED_DIR);
const stale = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => `${GENERATED_DIR}/${f}`).filter((f) => !files.has(f)) : [];
const changed = [...files].filter(([rel, text]) => {
  const file = path.join(root, rel);
  return !fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== text;
});
if (check) {
  for (const [rel] of changed) console.error(`${rel}: differs from its layout`);
  for (const rel of stale) console.error(`${rel}: no layout declares it`);
  if (changed.length || stale.length) {
    console.error('run `npm run gen:shaders` and commit the result');
    process.exit(1);
  }
  console.log(`${files.size} generated shader headers are up to date`);
} else {
  fs.mkdirSync(dir, { recursive: true });
  for (const [rel, text] of changed) fs.writeFileSync(path.join(root, rel), text);
  for (const rel of stale) fs.unlinkSync(path.join(root, rel));
  console.log(`${files.size} headers in ${GENERATED_DIR}: ${changed.length} written, ${stale.length} removed`);
}
