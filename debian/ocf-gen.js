// ocf-gen's entry as packaged (/usr/lib/ocfkit/bin/ocf-gen.js): every
// dependency is inside ../dist/ocf-gen.js; oclif reads ../package.json.
// What ocf-gen runs (crm_verify, crm_resource, the agents) must see the
// agents' executable as agents again, not as the bun command.
delete process.env.BUN_BE_BUN;
const { execute } = await import('../dist/ocf-gen.js');
await execute({ dir: import.meta.url });
