import { AGENT_LOADERS } from '../../agents/loaders.js';
import { multiCallMain } from '../ocf/main.js';

// Read argv/env inside the call, never at module load (SEA snapshots freeze them).
void multiCallMain(AGENT_LOADERS, process.argv).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`ocf-exit-reason:internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
