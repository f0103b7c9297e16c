// Build step: render every agent's meta-data once, so executables only print it.
import { AGENTS } from '../../agents/index.js';
import { renderMetaData } from '../ocf/metadata.js';

const out: Record<string, string> = {};
for (const [name, decl] of Object.entries(AGENTS)) out[name] = renderMetaData(decl);
process.stdout.write(JSON.stringify(out));
