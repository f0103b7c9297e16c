#!/usr/bin/env bash
# The soak (`npm run soak`): many takeovers in a row under a writing NFS client, fencing on, in
# the QEMU bed (root; the QEMU tier's host packages). Not part of `npm test` (tens of minutes).
#   OCFKIT_SOAK_TAKEOVERS=N   takeovers (default 10; odd ones power the serving node off, even ones
#                             move the service with crm_resource --move --promoted)
#   OCFKIT_SOAK_REPORT=FILE   also write the result table (Markdown) there
set -u
cd "$(dirname "$0")/.."
npm run --silent build >&2 || { echo "build failed" >&2; exit 1; }
OCFKIT_SOAK=1 exec npx vitest run test/e2e/soak.test.ts "$@"
