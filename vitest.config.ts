import { defineConfig } from 'vitest/config';

// Tiers: unit (pure, fast), integration (built executables + real kernel: netns, loop
// devices, Pacemaker tools), cluster (Pacemaker+Corosync in namespaces), qemu (guests).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Root-level resources (namespaces, loop devices) are named per test process; files still run one at a time
    // on this 2-core machine so timings stay sane.
    fileParallelism: false,
    reporters: ['default'],
  },
});
