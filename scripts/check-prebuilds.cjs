#!/usr/bin/env node
/**
 * prepack's last check: every platform the package promises (src/native.ts PREBUILT_PLATFORMS) has
 * its prebuilt addon, for the right machine (ELF header), stripped (no .symtab). A missing one fails
 * `npm pack` with the command that builds it; VKRT_PACK_PARTIAL=1 packs without it (a warning).
 */
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const MACHINE = { x64: 62, arm64: 183 }; // ELF e_machine: EM_X86_64, EM_AARCH64
let failed = false;
for (const arch of Object.keys(MACHINE)) {
  const file = path.join(root, 'prebuilds', `linux-${arch}`, 'node.napi.glibc.node');
  if (!fs.existsSync(file)) {
    const msg = `prebuilds/linux-${arch} is missing: build it with \`bash scripts/prebuild.sh ${arch}\``;
    if (process.env.VKRT_PACK_PARTIAL === '1') console.error(`check-prebuilds: warning: ${msg} (packing without it)`);
    else { console.error(`check-prebuilds: ${msg}`); failed = true; }
    continue;
  }
  const b = fs.readFileSync(file);
  const machine = b.readUInt16LE(18);
  if (b.readUInt32BE(0) !== 0x7f454c46 || machine !== MACHINE[arch]) {
    console.error(`check-prebuilds: ${file} is not a linux-${arch} ELF file (e_machine ${machine})`);
    failed = true;
    continue;
  }
  // section names: a stripped file has no .symtab
  const shoff = Number(b.readBigUInt64LE(0x28)), shentsize = b.readUInt16LE(0x3a), shnum = b.readUInt16LE(0x3c), shstrndx = b.readUInt16LE(0x3e);
  const strOff = Number(b.readBigUInt64LE(shoff + shstrndx * shentsize + 0x18));
  const names = [];
  for (let i = 0; i < shnum; i++) {
    const nameOff = b.readUInt32LE(shoff + i * shentsize);
    const end = b.indexOf(0, strOff + nameOff);
    names.push(b.toString('latin1', strOff + nameOff, end));
  }
  if (names.includes('.symtab')) {
    console.error(`check-prebuilds: ${file} is not stripped; rebuild it with \`bash scripts/prebuild.sh ${arch}\``);
    failed = true;
    continue;
  }
  console.error(`check-prebuilds: linux-${arch} ok (${b.length} bytes, stripped)`);
}
process.exitCode = failed ? 1 : 0;
