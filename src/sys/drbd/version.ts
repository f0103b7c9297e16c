/** DRBD kernel module versions "x.y.z", compared as drbdadm does (x<<16 | y<<8 | z). */

export interface DrbdVersion {
  major: number;
  minor: number;
  patch: number;
  /** As the kernel printed it, e.g. "8.4.11" or "9.2.4". */
  text: string;
}

const VERSION = /^(\d+)\.(\d+)\.(\d+)/;

export function parseVersion(s: string): DrbdVersion | undefined {
  const m = VERSION.exec(s.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: s.trim().split(/\s/)[0]! };
}

/** The version code drbdadm and the linbit agent compare (DRBD_KERNEL_VERSION_CODE). */
export function versionCode(v: Pick<DrbdVersion, 'major' | 'minor' | 'patch'>): number {
  return (v.major << 16) | (v.minor << 8) | v.patch;
}

/** A require_drbd_module_version_* value: exactly x.y.z (the linbit agent's format). */
export function isVersionSpec(s: string): boolean {
  return /^\d+\.\d+\.\d+$/.test(s);
}

/**
 * Why the module version is outside [ge, lt), or undefined when it fits.
 * Empty bounds are not checked.
 */
export function versionOutOfRange(v: DrbdVersion, ge: string | undefined, lt: string | undefined): string | undefined {
  const code = versionCode(v);
  if (ge) {
    const min = parseVersion(ge);
    if (min && code < versionCode(min)) return `DRBD kernel module ${v.text} is older than require_drbd_module_version_ge=${ge}`;
  }
  if (lt) {
    const max = parseVersion(lt);
    if (max && code >= versionCode(max)) return `DRBD kernel module ${v.text} is not older than require_drbd_module_version_lt=${lt}`;
  }
  return undefined;
}

/** DRBD 9 changed the state model (resource roles, per-peer connections, quorum) and the tools' output. */
export const isDrbd9 = (v: DrbdVersion) => v.major >= 9;
