/**
 * Whether every test tier must run. CI sets OCFKIT_TIERS_REQUIRED=1 (OCFKIT_QEMU_REQUIRED=1 is the
 * older name): there a tier whose prerequisites are missing fails instead of skipping quietly.
 */
export function tiersRequired(): boolean {
  return process.env.OCFKIT_TIERS_REQUIRED === '1' || process.env.OCFKIT_QEMU_REQUIRED === '1';
}
