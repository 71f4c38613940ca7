/** Re-export: the networks live in src/models/nets.ts (they are also the bundled demo model). */
export { googlenetLike, inceptionBlock, mobilenetV2Like } from '../../src/models/nets';
