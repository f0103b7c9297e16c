#!/usr/bin/env bash
# The README's test command (`npm test`): installs the Debian tools the tests
# use when they are missing, installs npm dependencies, builds, runs every test
# tier, and ends with the plain "N passed, N failed" line.
set -u
cd "$(dirname "$0")/.."

# Tools the tests drive for real (see the README, "Tests").
PACKAGES=(
  pacemaker pacemaker-cli-utils corosync resource-agents libxml2-utils
  iproute2 iputils-arping tcpdump e2fsprogs xfsprogs psmisc kmod util-linux procps
  drbd-utils nfs-kernel-server binutils
  qemu-system-x86 qemu-utils debootstrap busybox-static cpio perl
  pcs crmsh openipmi lintian fence-agents
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "test: installing Debian packages: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Nothing should start on package install on a test machine.
  apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || { echo "0 passed, 1 failed"; exit 1; }
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
  npm ci --no-audit --no-fund >&2 || { echo "0 passed, 1 failed"; exit 1; }
fi
npm run --silent build >&2 || { echo "build failed" >&2; echo "0 passed, 1 failed"; exit 1; }
npx tsc --noEmit -p . >&2 || { echo "type check failed" >&2; echo "0 passed, 1 failed"; exit 1; }

rm -f .vitest.json
NO_COLOR=1 npx vitest run --reporter=default --reporter=json --outputFile=.vitest.json "$@"
rc=$?
node -e '
  const fs = require("fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(".vitest.json", "utf8")); } catch { console.log("0 passed, 1 failed"); process.exit(0); }
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A file that failed to load has no tests counted: count it as a failure.
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === "failed" && (f.assertionResults ?? []).length === 0).length;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed` + (skipped ? `, ${skipped} skipped` : ""));
'
exit $rc
