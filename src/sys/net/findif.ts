import { isLinkLocalIPv6, type IpAddress } from './inet.js';
import { connectedRouteFor, readRoutes, type Route } from './routes.js';

/**
 * Which interface and prefix length an address gets when the admin named
 * only some (resource-agents' findif): the subnet route that contains the
 * address says both. Read from /proc, so it costs no fork.
 */

export interface Placement {
  nic: string;
  prefix: number;
}

export type PlacementResult = { ok: true; placement: Placement; route?: Route } | { ok: false; configured: boolean; problem: string };

export function placeAddress(ip: IpAddress, want: { nic?: string; prefix?: number }, routes: Route[] = want.nic !== undefined && want.prefix !== undefined ? [] : readRoutes(ip.family)): PlacementResult {
  if (want.nic !== undefined && want.prefix !== undefined) return { ok: true, placement: { nic: want.nic, prefix: want.prefix } };
  if (isLinkLocalIPv6(ip) && want.nic === undefined) {
    return { ok: false, configured: true, problem: `a link-local address (${ip.text}) needs the nic parameter` };
  }
  const route = connectedRouteFor(routes, ip.family, ip.bytes, want);
  if (!route) {
    // 127/8 lives in the local table only (findif's getnetworkinfo).
    if (ip.family === 4 && ip.bytes[0] === 127 && (want.nic === undefined || want.nic === 'lo')) {
      return { ok: true, placement: { nic: 'lo', prefix: want.prefix ?? 8 } };
    }
    const on = want.nic !== undefined ? ` on ${want.nic}` : '';
    const within = want.prefix !== undefined ? `/${want.prefix}` : '';
    return {
      ok: false,
      configured: false,
      problem: `no route on this node puts ${ip.text}${within} on a link${on}: cannot tell the ${want.nic === undefined ? 'interface' : 'prefix length'} (set nic and cidr_netmask)`,
    };
  }
  return { ok: true, placement: { nic: want.nic ?? route.dev, prefix: want.prefix ?? route.prefix }, route };
}
