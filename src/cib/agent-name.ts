// "ocf:ocfkit:IPaddr2", "lsb:apache", "stonith:fence_ipmilan" ↔ class/provider/type.

import { AGENTS } from '../../agents/index.js';

export const CLASSES = ['ocf', 'lsb', 'systemd', 'service', 'stonith', 'heartbeat', 'upstart', 'nagios'] as const;

export interface AgentName {
  class: string;
  provider?: string;
  type: string;
}

/** Parses an agent string; returns a problem text instead when it is not one ocfkit can name. */
export function parseAgent(s: string): AgentName | string {
  const parts = s.split(':');
  const cls = parts[0] ?? '';
  if (!(CLASSES as readonly string[]).includes(cls)) {
    return `not an agent: use class:provider:type (ocf:ocfkit:IPaddr2) or class:type (lsb:apache); class must be one of ${CLASSES.join(', ')}`;
  }
  if (cls === 'ocf') {
    if (parts.length !== 3 || !parts[1] || !parts[2]) return `not an OCF agent: use ocf:<provider>:<type> (e.g. ocf:ocfkit:IPaddr2)`;
    const [, provider, type] = parts as [string, string, string];
    if (provider === 'ocfkit' && !AGENTS[type]) return `unknown agent ocf:ocfkit:${type} (ocfkit ships: ${Object.keys(AGENTS).join(', ')})`;
    if (!/^[A-Za-z0-9_.+-]+$/.test(provider) || !/^[A-Za-z0-9_.+-]+$/.test(type)) return 'not a valid agent name';
    return { class: cls, provider, type };
  }
  // class:type; stonith types of Heartbeat may contain a slash (external/ipmi).
  if (parts.length !== 2 || !parts[1]) return `not a valid agent: use ${cls}:<type>`;
  if (!/^[A-Za-z0-9_.@+/-]+$/.test(parts[1])) return 'not a valid agent name';
  return { class: cls, type: parts[1] };
}

export const agentString = (a: AgentName) => (a.provider ? `${a.class}:${a.provider}:${a.type}` : `${a.class}:${a.type}`);
