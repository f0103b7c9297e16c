import { defineAgent } from '../src/ocf/index.js';

// Placeholder: replaced by the real agent.
export const nfsserver = defineAgent({
  name: 'nfsserver',
  version: '0.1.0',
  shortdesc: 'nfsserver (not implemented yet)',
  longdesc: 'Not implemented yet.',
  params: {},
  actions: {},
});
