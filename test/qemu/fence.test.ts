// The bed's fence device: each server guest has a BMC (ipmi_sim on the host side, QEMU's
// ipmi-bmc-extern), and Debian's fence_ipmilan inside the peer guest powers it off over
// IPMI-over-LAN — the qemu process really ends — and reports its power state; the bed powers it
// on again. Also the replication link (eth1 on br1) and cutting it in the bed's namespace.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { qemuAvailability, startGuests, type Bed, type Guest } from './lib/index.js';

const avail = qemuAvailability();
if (!avail.ok) console.warn(`QEMU tier skipped: ${avail.reason}`);

const CREDS = { username: 'fencer', password: `pw${process.pid}` };

describe.skipIf(!avail.ok)('QEMU bed: IPMI fencing with fence_ipmilan and a replication link', () => {
  let bed: Bed;
  let n1: Guest;
  let n2: Guest;

  beforeAll(async () => {
    bed = await startGuests({
      guests: [{ name: 'n1', dataDiskMiB: 0, repl: true, bmc: true }, { name: 'n2', dataDiskMiB: 0, repl: true, bmc: true }],
      agents: false,
      bmc: CREDS,
      log: (l) => console.log(l),
    });
    n1 = bed.guest('n1');
    n2 = bed.guest('n2');
  }, 600_000);

  afterAll(async () => {
    await bed?.teardown();
  }, 120_000);

  /** fence_ipmilan in n2 against n1's BMC, with the parameters the CIB's device gets. */
  const fence = (action: string, password = CREDS.password) =>
    n2.exec(['fence_ipmilan', `--ip=${bed.bmc('n1').address}`, `--username=${CREDS.username}`, `--password=${password}`, '--lanplus', '--cipher=3', `--action=${action}`], { timeoutMs: 120_000 });

  test('the replication link carries traffic between the servers and can be cut and restored', async () => {
    expect(n1.replIp).toBe('10.98.0.11');
    expect((await n1.exec(['ping', '-c', '1', '-W', '5', n2.replIp!])).code).toBe(0);
    bed.setReplLink('n2', false);
    expect((await n1.exec(['ping', '-c', '2', '-W', '2', n2.replIp!])).code, 'no answer over the cut link').not.toBe(0);
    expect((await n1.exec(['ping', '-c', '1', '-W', '5', n2.ip])).code, 'eth0 still works').toBe(0);
    bed.setReplLink('n2', true);
    expect((await n1.exec(['ping', '-c', '1', '-W', '5', n2.replIp!])).code).toBe(0);
  }, 120_000);

  test('fence_ipmilan: status ON; a wrong password is refused and changes nothing', async () => {
    const st = await fence('status');
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout).toMatch(/Status: ON/);
    const bad = await fence('off', 'wrong');
    expect(bad.code).not.toBe(0);
    expect(n1.running).toBe(true);
  }, 300_000);

  test('fence_ipmilan off powers the victim off (its qemu process ends), status OFF; the bed powers it on again', async () => {
    const pid = n1.pid;
    const t0 = Date.now();
    const off = await fence('off');
    const ms = Date.now() - t0;
    expect(off.code, `${off.stdout}\n${off.stderr}`).toBe(0);
    expect(off.stdout).toMatch(/Powered OFF/);
    await n1.waitExit(30_000);
    expect(n1.running).toBe(false);
    // QEMU ended on its own (a shutdown request from the BMC), not by a signal of ours.
    expect(n1.exitStatus).toEqual({ code: 0, signal: null });
    console.log(`fence: fence_ipmilan off of n1 (qemu pid ${pid}) from n2: ${ms} ms`);
    expect((await fence('status')).stdout).toMatch(/Status: OFF/);
    await n1.start();
    const on = await fence('status');
    expect(on.stdout).toMatch(/Status: ON/);
  }, 600_000);
});
