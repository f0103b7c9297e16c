// What the benchmark's QEMU rows (bench/lib/qemu.mjs) take from the QEMU tier: the guest harness
// itself (test/qemu/lib) and what resource-agents' nfsserver needs in a guest (test/e2e/lib/shell-nodes.ts),
// nothing re-implemented. bench/ is .mjs run by Node 20, which cannot load TypeScript: scripts/build.mjs
// bundles this file into build-bench/qemu-harness.mjs (`node scripts/build.mjs bench-qemu`).
export { qemuAvailability, startGuests, until, HOST_PACKAGES, type Bed, type Guest } from '../../test/qemu/lib/index.js';
export { NFS_SERVER_UNITS, NFS_SERVER_UNITS_PATH } from '../../test/e2e/lib/shell-nodes.js';
