import { defineAgent } from '../src/ocf/index.js';

// Placeholder: replaced by the real agent.
export const Filesystem = defineAgent({
  name: 'Filesystem',
  version: '0.1.0',
  shortdesc: 'Filesystem (not implemented yet)',
  longdesc: 'Not implemented yet.',
  params: {},
  actions: {},
});
