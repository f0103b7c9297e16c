/** What corosync.conf says about one node. */
export interface CorosyncMember {
  name: string;
  nodeid: number;
  address: string;
}

export interface CorosyncOptions {
  clusterName: string;
  members: CorosyncMember[];
  /** totem token timeout (ms): how long until a silent node is declared lost. 1000 → failover in ~6 s. */
  tokenMs: number;
}

/**
 * corosync.conf for the test bed: knet without crypto (a private bridge), votequorum with two_node
 * for two members, logs to /var/log/corosync (per node). Corosync's parser wants `name {` with the
 * opening brace on the key's line and `}` alone; one-line blocks are rejected.
 */
export function corosyncConf(o: CorosyncOptions): string {
  const lines: string[] = [];
  const block = (name: string, body: () => void, depth = 0) => {
    lines.push(`${'  '.repeat(depth)}${name} {`);
    body();
    lines.push(`${'  '.repeat(depth)}}`);
  };
  const kv = (k: string, v: string | number, depth = 1) => lines.push(`${'  '.repeat(depth)}${k}: ${v}`);
  block('totem', () => {
    kv('version', 2);
    kv('cluster_name', o.clusterName);
    kv('transport', 'knet');
    kv('crypto_cipher', 'none');
    kv('crypto_hash', 'none');
    kv('token', o.tokenMs);
  });
  block('logging', () => {
    kv('to_stderr', 'no');
    kv('to_syslog', 'no');
    kv('to_logfile', 'yes');
    kv('logfile', '/var/log/corosync/corosync.log');
    kv('timestamp', 'hires');
  });
  block('quorum', () => {
    kv('provider', 'corosync_votequorum');
    if (o.members.length === 2) kv('two_node', 1);
  });
  block('nodelist', () => {
    for (const m of o.members)
      block(
        'node',
        () => {
          kv('name', m.name, 2);
          kv('nodeid', m.nodeid, 2);
          kv('ring0_addr', m.address, 2);
        },
        1,
      );
  });
  return `${lines.join('\n')}\n`;
}
