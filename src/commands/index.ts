import Agents from './agents.js';
import Cib from './cib.js';
import Convert from './convert.js';
import DrbdConf from './drbd-conf.js';
import Install from './install.js';
import MetaData from './meta-data.js';
import Validate from './validate.js';

/** oclif's explicit command strategy (package.json oclif.commands): one bundle, no directory scan. */
export const COMMANDS = {
  agents: Agents,
  cib: Cib,
  convert: Convert,
  'drbd-conf': DrbdConf,
  install: Install,
  'meta-data': MetaData,
  validate: Validate,
};
