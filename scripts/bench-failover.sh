#!/usr/bin/env bash
# npm run bench:failover: the end-to-end suite (test/e2e/ha-nfs.test.ts) twice on the same machine,
# one pass after the other: ocfkit's agents, then resource-agents' shell agents and ocf:linbit:drbd
# (OCFKIT_E2E_AGENTS=shell), same bed, scenarios and client; then one table side by side
# (bench/failover-table.mjs). See docs/readme/e2e.md, "Side by side with the shell agents".
# Root and the QEMU tier's host packages, like the suite; two full runs (each 15–25 min idle).
# Not part of npm test.
#   OCFKIT_FAILOVER_OUT=DIR   where the reports and logs go (default bench-results/failover-<time>)
# Other OCFKIT_E2E_* settings (e.g. OCFKIT_E2E_OP_TIMEOUT_SCALE) apply to both passes alike.
set -u
cd "$(dirname "$0")/.."

if [ "$(id -u)" != 0 ]; then
	echo "bench:failover: must run as root (QEMU guests, network namespaces, tap devices)" >&2
	exit 1
fi

out="${OCFKIT_FAILOVER_OUT:-bench-results/failover-$(date +%Y%m%d-%H%M%S)}"
mkdir -p "$out" || exit 1

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -n 1)
machine="machine: ${cpu:-unknown CPU}, $(nproc) cores, ${qemu:-no qemu-system-x86_64}"
echo "$machine" | tee "$out/machine.txt"

npm run --silent build >&2 || { echo "bench:failover: build failed" >&2; exit 1; }

# The NFSv3 client only, unless asked: resource-agents' nfsserver starts no nfsdcld outside systemd,
# so an NFSv4 client would wait out the whole grace period there — a comparison of its own.
export OCFKIT_E2E_NFS4="${OCFKIT_E2E_NFS4:-0}"
# A failed scenario does not end a pass: when the cluster still serves on one node, the client's
# writer and lock are re-established and the next scenarios run (their rows say so).
export OCFKIT_E2E_CONTINUE=1

# One pass: its Markdown table, its JSON report and its whole log in $out. A failed scenario is a
# result (the report says which and why), so vitest's exit status only goes into the log.
pass() {
	local agents=$1
	rm -f "$out/$agents.json"
	echo "bench:failover: $agents pass ($(date +%T)), log in $out/$agents.log" >&2
	OCFKIT_E2E_AGENTS="$agents" OCFKIT_E2E_REPORT="$out/$agents.md" OCFKIT_E2E_REPORT_JSON="$out/$agents.json" NO_COLOR=1 \
		npx vitest run test/e2e/ha-nfs.test.ts >"$out/$agents.log" 2>&1
	echo "vitest exit status: $?" >>"$out/$agents.log"
	if [ ! -s "$out/$agents.json" ]; then
		echo "bench:failover: the $agents pass wrote no report; the end of its log:" >&2
		tail -n 30 "$out/$agents.log" >&2
		return 1
	fi
}

pass ocfkit || exit 1
pass shell || exit 1
{
	echo "$machine"
	echo
	node bench/failover-table.mjs "$out/ocfkit.json" "$out/shell.json"
} >"$out/table.md" || { echo "bench:failover: no table (see above)" >&2; exit 1; }
cat "$out/table.md"
echo "bench:failover: reports, logs and table in $out" >&2
