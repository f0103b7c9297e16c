// The QEMU tier-2 test bed (see test/qemu/README.md).
export { startGuests, AGENTS_EXE, type Bed, type GuestSpec, type StartOptions } from './bed.js';
export { Bmc, bmcAddress, fenceIpmilanParams, type BmcCredentials } from './bmc.js';
export { Guest, type ExecOptions, type ExecResult } from './guest.js';
export { ensureImage, cachedImage, recipeKey, CACHE_DIR, type GuestImage } from './image.js';
export { qemuAvailability, HOST_PACKAGES } from './available.js';
export { until, within, sleep } from './wait.js';
