import { defineAgent } from '../src/ocf/index.js';

// Placeholder: replaced by the real agent.
export const drbd = defineAgent({
  name: 'drbd',
  version: '0.1.0',
  shortdesc: 'drbd (not implemented yet)',
  longdesc: 'Not implemented yet.',
  params: {},
  actions: {},
});
