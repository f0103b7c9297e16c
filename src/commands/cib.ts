import { Command } from '@oclif/core';

// Placeholder until the CIB generator lands: an empty, valid pacemaker-3.7 CIB.
export default class Cib extends Command {
  static override description = 'Write the cluster information base (CIB) XML for the HA-NFS template';

  async run(): Promise<void> {
    this.log('<cib crm_feature_set="3.16.2" validate-with="pacemaker-3.7" epoch="1" num_updates="0" admin_epoch="0">\n  <configuration>\n    <crm_config/>\n    <nodes/>\n    <resources/>\n    <constraints/>\n  </configuration>\n  <status/>\n</cib>');
  }
}
