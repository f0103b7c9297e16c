import { defineAgent } from '../src/ocf/index.js';

// Placeholder: replaced by the real agent.
export const IPaddr2 = defineAgent({
  name: 'IPaddr2',
  version: '0.1.0',
  shortdesc: 'IPaddr2 (not implemented yet)',
  longdesc: 'Not implemented yet.',
  params: {},
  actions: {},
});
