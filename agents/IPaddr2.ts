import { defineAgent, fail, OCF, OcfError, param, type Ctx, type ParamValues } from '../src/ocf/index.js';
import { ocfIsTrue } from '../src/ocf/truth.js';
import { addAddress, addressesOn, deleteAddress, findAddress, waitForDad } from '../src/sys/net/addresses.js';
import { announceInBackground, announceNow, ARP_SENDERS, findSender, stopAnnouncer, type Announcement } from '../src/sys/net/announce.js';
import { placeAddress } from '../src/sys/net/findif.js';
import { broadcastOf, dottedQuadToPrefix, formatIPv4, networkOf, parseIPv4, parseIp, parsePrefixLength, unusableAddress, type IpAddress } from '../src/sys/net/inet.js';
import { announcesOn, interfaceNameProblem, linkProblem, readLink, setLinkUp, type LinkState } from '../src/sys/net/links.js';
import { which } from '../src/sys/which.js';

const ipProblem = (v: string) => {
  const ip = parseIp(v.trim());
  if (!ip) return 'not an IPv4 (dotted quad) or IPv6 address';
  const bad = unusableAddress(ip);
  return bad ? `${ip.text} ${bad}` : undefined;
};
const netmaskProblem = (v: string) => (/^\d{1,3}$/.test(v.trim()) || dottedQuadToPrefix(v.trim()) !== undefined ? undefined : 'not a prefix length (e.g. 24) or netmask');
/** ip-address(8) lifetimes are 32-bit seconds; 4294967295 itself means forever. */
const MAX_LIFETIME = 4_294_967_294;
const preferredLftProblem = (v: string) =>
  v === 'forever' ? undefined : !/^\d+$/.test(v) ? 'must be "forever" or a number of seconds' : Number(v) > MAX_LIFETIME ? `must be "forever" or 0-${MAX_LIFETIME} seconds` : undefined;
const LABEL = /^[A-Za-z0-9_.-]+$/;
const labelProblem = (v: string) => (LABEL.test(v) ? undefined : 'only letters, digits, "_", "." and "-" are allowed');
const nicProblem = (v: string) => {
  const [name, label] = splitNic(v);
  const bad = interfaceNameProblem(name) ?? (name.startsWith('-') ? 'starts with "-" (tools would read it as an option)' : undefined);
  if (bad) return `interface name ${bad}`;
  return label === undefined ? undefined : labelProblem(label);
};

/** "eth0:vip" in nic is the deprecated way to give a label; it wins over iflabel (as in the heartbeat agent). */
function splitNic(v: string): [string, string | undefined] {
  const i = v.indexOf(':');
  return i < 0 ? [v, undefined] : [v.slice(0, i), v.slice(i + 1)];
}

const params = {
  ip: param.string({
    shortdesc: 'IPv4 or IPv6 address',
    longdesc: 'The IPv4 address (dotted quad, e.g. "192.168.1.1") or IPv6 address (colon hexadecimal, e.g. "2001:db8:dc28:0:0:fc57:d4c8:1fff") to manage.',
    required: true,
    unique: true,
    check: ipProblem,
  }),
  nic: param.string({
    shortdesc: 'Network interface',
    longdesc: `The base network interface on which the address is brought online. If empty, it is found from the routing table: the interface of the most specific directly connected route that contains the address (as findif does).
Give the base interface only (eth0, not eth0:1); for a label use iflabel.
The interface should already carry a static address that the cluster does not manage, or set net.ipv4.conf.<nic>.promote_secondaries=1.`,
    check: nicProblem,
  }),
  cidr_netmask: param.string({
    shortdesc: 'CIDR netmask',
    longdesc: `The prefix length in CIDR notation (e.g. 24, not 255.255.255.0): 1-32 for IPv4, 1-128 for IPv6. A dotted quad netmask is still accepted and converted, with a warning.
If empty, it is taken from the routing table like nic.`,
    check: netmaskProblem,
  }),
  broadcast: param.string({
    shortdesc: 'Broadcast address',
    longdesc: `IPv4 only: the broadcast address of the address. "+" sets the host bits of the prefix, "-" clears them.
If empty, it is computed from the prefix ("+"); /31 and /32 have none.`,
    check: (v) => (v === '+' || v === '-' || parseIPv4(v) ? undefined : 'not an IPv4 address, "+" or "-"'),
  }),
  iflabel: param.string({
    shortdesc: 'Interface label',
    longdesc: `IPv4 only: a label for the address, appended to the interface name (eth0:label); the whole may be at most 15 characters. Letters, digits, "_", "." and "-".
A label given in nic (eth0:label, deprecated) takes precedence.`,
    check: labelProblem,
  }),
  arp_interval: param.integer({
    shortdesc: 'ARP/NA packet interval in ms',
    longdesc: 'Milliseconds between two unsolicited ARP (IPv4) or NA (IPv6) announcements. send_arp and send_ua honour it exactly; iputils arping counts whole seconds (at least 1).',
    default: 200,
    min: 1,
    max: 60_000,
  }),
  arp_count: param.integer({
    shortdesc: 'ARP/NA packet count sent during initialization',
    longdesc: 'How many unsolicited ARP rounds (IPv4: an ARP request and an ARP reply each) or neighbour advertisements (IPv6) to send when the address is started.',
    default: 5,
    min: 1,
    max: 1000,
  }),
  arp_count_refresh: param.integer({
    shortdesc: 'ARP packet count sent during monitoring',
    longdesc: 'IPv4 only: how many unsolicited ARP rounds to send on every recurring monitor, to repair ARP caches left stale by a split brain. 0 sends none.',
    default: 0,
    min: 0,
    max: 1000,
  }),
  arp_bg: param.boolean({
    shortdesc: 'ARP/NA from background',
    longdesc: `Whether the announcements are sent in the background, so that start returns at once. The default is true for IPv4 and false for IPv6.
A background announcer never outlives the deadline of the operation that started it, and stop ends it.`,
  }),
  arp_sender: param.select(ARP_SENDERS, {
    shortdesc: 'ARP sender',
    longdesc: 'IPv4 only: the program that sends the gratuitous ARPs: send_arp (resource-agents) or iputils_arping (arping -U and -A). If empty, send_arp when installed, arping otherwise.',
  }),
  run_arping: param.boolean({
    shortdesc: 'Run arping for IPv4 collision detection check',
    longdesc: 'IPv4 only: before adding the address, ask with arping (duplicate address detection mode) whether another host already has it, and fail the start if one answers.',
    default: false,
  }),
  nodad: param.boolean({
    shortdesc: 'Use nodad flag',
    longdesc: 'IPv6 only: add the address without duplicate address detection (and without waiting for it).',
    default: false,
  }),
  noprefixroute: param.boolean({
    shortdesc: 'Use noprefixroute flag',
    longdesc: 'Add the address with the noprefixroute flag: no route for its prefix is created (see ip-address(8)).',
    default: false,
  }),
  preferred_lft: param.string({
    shortdesc: 'IPv6 preferred lifetime',
    longdesc: 'IPv6 only: the preferred lifetime of the address, "forever" or seconds (RFC 4862 section 5.5.4). 0 keeps the address from being chosen as a source address.',
    default: 'forever',
    check: preferredLftProblem,
  }),
  flush_routes: param.boolean({
    shortdesc: 'Flush kernel routing table on stop',
    longdesc: 'Flush the routing cache on stop, so local applications stop using the address at once.',
    default: false,
  }),
  netmask: param.string({
    shortdesc: 'Netmask (old name of cidr_netmask)',
    longdesc: 'An old name of cidr_netmask, read when cidr_netmask is empty.',
    deprecated: 'cidr_netmask',
    check: netmaskProblem,
  }),
};

type P = ParamValues<typeof params>;
type C = Ctx<P>;

export const IPaddr2 = defineAgent({
  name: 'IPaddr2',
  version: '1.0.0',
  shortdesc: 'Manages virtual IPv4 and IPv6 addresses (Linux specific version)',
  longdesc: `Adds a service address to an interface and removes it; the floating IP that clients use, moved between nodes by the cluster.
Compatible with ocf:heartbeat:IPaddr2 for single-node (non-cloned) addresses: same parameters, defaults and meanings.

When the address is started it is announced, so that neighbours and switches learn its new MAC at once: for IPv4 gratuitous ARP (an ARP request and an ARP reply per round, arp_count rounds arp_interval ms apart) with send_arp from resource-agents or arping from iputils-arping; for IPv6, after duplicate address detection has finished, unsolicited neighbour advertisements with send_ua from resource-agents.

monitor reports the address running when it is on its interface and that link is up with a carrier. It forks nothing: links and routes come from /sys and /proc, IPv6 addresses from /proc/net/if_inet6, IPv4 addresses from getifaddrs (one "ip -json addr show" only while the link is not running).`,
  params,

  validate: validateAll,
  actions: {
    start: { timeout: 20, validate: true, handler: start },
    stop: { timeout: 20, handler: stop },
    monitor: { timeout: 20, interval: 10, handler: monitor },
  },
});

function validateAll(ctx: C): void {
  if (!which('ip', ctx.env.PATH)) throw fail.installed('ip (package iproute2) is not installed');
  const t = targetOf(ctx);
  const link = readLink(t.nic);
  if (!link) throw fail.installed(`interface ${t.nic} does not exist on this node`);
  if (announcesOn(link)) findSender(t.ip.family, ctx.params.arp_sender, ctx.env);
  if (ctx.params.run_arping && t.ip.family === 4 && !which('arping', ctx.env.PATH)) throw fail.installed('run_arping needs arping (package iputils-arping)');
}

async function start(ctx: C): Promise<number> {
  requireRoot(ctx);
  const t = targetOf(ctx);
  if (ctx.env.OCF_RESKEY_send_arp_opts) ctx.log.warn(`send_arp_opts ignored: ARP requests and replies are always both sent`);
  await stopAnnouncer(ctx.rsctmp, t.ip.text, ctx.deadline, ctx.log);

  const present = findAddress(await addressesOn(ctx.run, t.ip.family, t.nic), t.ip);
  const mine = present.find((a) => a.prefix === t.prefix);
  if (!mine && present.length > 0) {
    throw fail.generic(`${t.ip.text} is already on ${t.nic} with prefix /${present[0]!.prefix}, not /${t.prefix}: remove it or fix cidr_netmask`);
  }
  await bringLinkUp(ctx, t.nic);

  if (mine && !mine.dadFailed) {
    ctx.log.info(`${describe(t)} is already up: announcing it again`);
  } else {
    if (mine?.dadFailed) await deleteAddress(ctx.run, t.ip, t.prefix, t.nic);
    if (ctx.params.run_arping && t.ip.family === 4 && (await ipv4Collision(ctx, t))) {
      throw fail.generic(`IPv4 address collision: another host on ${t.nic} answers for ${t.ip.text} (arping -D)`);
    }
    const broadcast = broadcastFor(t);
    const label = t.label === undefined ? undefined : `${t.nic}:${t.label}`;
    ctx.log.info(`adding ${describe(t)}${broadcast ? ` broadcast ${broadcast}` : ''}${label ? ` label ${label}` : ''}`);
    await addAddress(ctx.run, {
      ip: t.ip,
      prefix: t.prefix,
      dev: t.nic,
      broadcast,
      label,
      preferredLft: ctx.params.preferred_lft,
      nodad: ctx.params.nodad,
      noprefixroute: ctx.params.noprefixroute,
    });
  }

  if (t.ip.family === 6 && !ctx.params.nodad) {
    const dad = await waitForDad(ctx.deadline, t.ip, t.nic);
    if (dad === 'failed') {
      await deleteAddress(ctx.run, t.ip, t.prefix, t.nic).catch(() => ctx.log.error(`could not remove ${describe(t)} after the failed duplicate address detection`));
      throw fail.generic(`IPv6 address collision: duplicate address detection failed for ${t.ip.text} on ${t.nic} (dadfailed): another node has it`);
    }
    if (dad === 'gone') throw fail.generic(`${describe(t)} disappeared during duplicate address detection`);
  }
  await announce(ctx, t, readLink(t.nic)!, ctx.params.arp_count, 'info');
  return OCF.SUCCESS;
}

async function stop(ctx: C): Promise<number> {
  requireRoot(ctx);
  let t: Target;
  try {
    t = targetOf(ctx);
  } catch (e) {
    // Nothing can be up on this node with a configuration that does not resolve here (as findif failing on stop).
    if (e instanceof OcfError && (e.code === OCF.ERR_CONFIGURED || e.code === OCF.ERR_INSTALLED)) {
      ctx.log.warn(`${e.reason}: nothing to stop`);
      return OCF.SUCCESS;
    }
    throw e;
  }
  await stopAnnouncer(ctx.rsctmp, t.ip.text, ctx.deadline, ctx.log);
  if (!readLink(t.nic)) {
    ctx.log.info(`${t.nic} does not exist: ${t.ip.text} went with it`);
    return OCF.SUCCESS;
  }
  const present = findAddress(await addressesOn(ctx.run, t.ip.family, t.nic), t.ip);
  if (present.some((a) => a.prefix === t.prefix)) {
    ctx.log.info(`removing ${describe(t)}`);
    await deleteAddress(ctx.run, t.ip, t.prefix, t.nic);
  } else if (present.length > 0) {
    ctx.log.warn(`${t.ip.text} is on ${t.nic} with prefix /${present[0]!.prefix}, not /${t.prefix}: not ours, leaving it`);
  } else {
    ctx.log.info(`${describe(t)} is not there: already stopped`);
  }
  if (ctx.params.flush_routes) await ctx.run('ip', ['route', 'flush', 'cache'], { check: false });
  return OCF.SUCCESS;
}

async function monitor(ctx: C): Promise<number> {
  const c = configOf(ctx);
  if (c.nic !== undefined && !readLink(c.nic)) throw fail.notRunning(`${c.ip.text}: interface ${c.nic} does not exist`);
  const found = placeAddress(c.ip, { nic: c.nic, prefix: c.prefix });
  if (!found.ok) {
    if (found.configured) throw fail.configured(found.problem);
    throw fail.notRunning(found.problem);
  }
  const t: Target = { ...c, ...found.placement };
  const link = readLink(t.nic);
  if (!link) throw fail.notRunning(`${t.ip.text}: interface ${t.nic} does not exist`);
  const present = findAddress(await addressesOn(ctx.run, t.ip.family, t.nic), t.ip);
  const mine = present.find((a) => a.prefix === t.prefix);
  const down = linkProblem(link);
  if (!mine) {
    const other = present[0] ? ` (it is there with prefix /${present[0].prefix})` : '';
    throw fail.notRunning(`${describe(t)} is not configured${other}${down ? `; ${down}` : ''}`);
  }
  if (mine.dadFailed) throw fail.notRunning(`${describe(t)} failed duplicate address detection: another node has it`);
  if (down) throw fail.notRunning(`${t.ip.text}: ${down}`);
  if (!ctx.isProbe && t.ip.family === 4 && ctx.params.arp_count_refresh > 0) {
    try {
      await announce(ctx, t, link, ctx.params.arp_count_refresh, 'debug');
    } catch (e) {
      // A missing sender must not turn a healthy address into a failed one.
      if (!(e instanceof OcfError)) throw e;
      ctx.log.warn(`arp_count_refresh: ${e.reason}`);
    }
  }
  return OCF.SUCCESS;
}

/** Heartbeat IPaddr2 features this agent does not have: a CIB that turns them on must not half-work. */
const UNSUPPORTED: Array<[string, 'flag' | 'value', string]> = [
  ['lvs_support', 'flag', 'LVS direct routing'],
  ['lvs_ipv6_addrlabel', 'flag', 'LVS IPv6 address labels'],
  ['unique_clone_address', 'flag', 'cloned addresses'],
  ['network_namespace', 'value', 'network namespaces'],
];

/** What the parameters say, checked against each other: all of it is the same on every node (6). */
interface Config {
  ip: IpAddress;
  nic?: string;
  prefix?: number;
  /** The label part only; the full label is "<nic>:<label>". */
  label?: string;
  broadcast?: string;
  arpBg: boolean;
}

function configOf(ctx: C): Config {
  const p = ctx.params;
  const ip = parseIp(p.ip.trim())!;
  const [nic, nicLabel] = p.nic === undefined ? [undefined, undefined] : splitNic(p.nic);
  let label = nicLabel ?? p.iflabel;
  if (nicLabel !== undefined && p.iflabel !== undefined) ctx.log.debug('a label in nic takes precedence over iflabel');

  let prefix: number | undefined;
  const mask = (p.cidr_netmask ?? p.netmask)?.trim();
  if (mask !== undefined) {
    prefix = parsePrefixLength(mask, ip.family);
    if (prefix === undefined && ip.family === 4 && mask.includes('.')) {
      prefix = dottedQuadToPrefix(mask);
      if (prefix !== undefined) ctx.log.warn(`please convert the dotted quad netmask ${mask} to CIDR notation: ${prefix}`);
    }
    if (prefix === undefined) throw fail.configured(`invalid cidr_netmask ${JSON.stringify(mask)} for ${ip.family === 4 ? 'IPv4 (1-32)' : 'IPv6 (1-128)'} address ${ip.text}`);
  }
  if (ip.family === 6 && p.broadcast !== undefined) throw fail.configured(`broadcast ${p.broadcast} given for IPv6 address ${ip.text}: IPv6 has no broadcast`);
  if (ip.family === 6 && label !== undefined) {
    ctx.log.warn(`iflabel ${label} ignored: labels exist for IPv4 addresses only`);
    label = undefined;
  }
  for (const [name, kind, what] of UNSUPPORTED) {
    const v = ctx.env[`OCF_RESKEY_${name}`];
    if (v && (kind === 'value' || ocfIsTrue(v))) throw fail.configured(`${name}=${v}: ${what} are not supported by ocf:ocfkit:IPaddr2`);
  }
  if ((ctx.meta.cloneMax ?? 1) > 1) throw fail.configured('IPaddr2 cannot be cloned here: cluster IP (CLUSTERIP) load sharing is not supported');
  return { ip, nic, prefix, label, broadcast: p.broadcast, arpBg: p.arp_bg ?? ip.family === 4 };
}

/** The configuration placed on this node: the interface and prefix, found from the routes when not given. */
interface Target extends Config {
  nic: string;
  prefix: number;
}

function targetOf(ctx: C): Target {
  const c = configOf(ctx);
  if (c.nic !== undefined && !readLink(c.nic)) throw fail.installed(`interface ${c.nic} does not exist on this node`);
  const found = placeAddress(c.ip, { nic: c.nic, prefix: c.prefix });
  if (!found.ok) throw found.configured ? fail.configured(found.problem) : fail.installed(found.problem);
  const t = { ...c, ...found.placement };
  if (t.label !== undefined && `${t.nic}:${t.label}`.length > 15) throw fail.configured(`interface label ${t.nic}:${t.label} is longer than 15 characters`);
  return t;
}

/** The broadcast address to set: given, "+"/"-" resolved, or computed from the prefix (none for /31, /32). */
function broadcastFor(t: Target): string | undefined {
  if (t.ip.family !== 4) return undefined;
  if (t.broadcast === '-') return formatIPv4(networkOf(4, t.ip.bytes, t.prefix));
  if (t.broadcast !== undefined && t.broadcast !== '+') return t.broadcast;
  const b = broadcastOf(t.ip.bytes, t.prefix);
  return b && formatIPv4(b);
}

const describe = (t: Target) => `${t.ip.text}/${t.prefix} on ${t.nic}`;

function requireRoot(ctx: C): void {
  if (process.getuid?.() !== 0) throw fail.perm(`${ctx.action} must run as root`);
}

function announcement(ctx: C, t: Target, count: number): Announcement {
  return { family: t.ip.family, ip: t.ip.text, prefix: t.prefix, nic: t.nic, count, intervalMs: ctx.params.arp_interval };
}

async function announce(ctx: C, t: Target, link: LinkState, count: number, level: 'info' | 'debug'): Promise<void> {
  if (count <= 0) return;
  if (!announcesOn(link)) {
    ctx.log[level](`${t.nic} does not do ARP/neighbour discovery: nothing to announce`);
    return;
  }
  const sender = findSender(t.ip.family, ctx.params.arp_sender, ctx.env);
  const a = announcement(ctx, t, count);
  if (t.arpBg) await announceInBackground(a, sender, ctx.rsctmp, ctx.deadline, ctx.env, ctx.log, level);
  else await announceNow(ctx.run, a, sender, ctx.log, level);
}

/** The link must be up with a carrier: an address on a dead link serves nobody, so start fails and the cluster tries elsewhere. */
async function bringLinkUp(ctx: C, nic: string): Promise<void> {
  const link = readLink(nic);
  if (!link) throw fail.generic(`interface ${nic} disappeared`);
  if (!link.adminUp) {
    ctx.log.info(`bringing ${nic} up`);
    await setLinkUp(ctx.run, nic);
  }
  try {
    await ctx.deadline.until(`waiting for ${nic} to come up`, () => {
      const now = readLink(nic);
      return now !== undefined && linkProblem(now) === undefined;
    }, { intervalMs: 100, limitMs: 5000 });
  } catch {
    const now = readLink(nic);
    throw fail.generic(now ? `${linkProblem(now) ?? `${nic} is not up`}: not starting ${ctx.params.ip} on it` : `interface ${nic} disappeared`);
  }
}

async function ipv4Collision(ctx: C, t: Target): Promise<boolean> {
  // arping -D exits 1 when somebody answered for the address.
  const r = await ctx.run('arping', ['-q', '-c', '2', '-w', '3', '-D', '-I', t.nic, '--', t.ip.text], { check: false, timeoutMs: 5000 });
  return r.code === 1;
}
