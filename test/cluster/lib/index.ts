// The tier-1 test bed: a real Pacemaker+Corosync cluster in namespaces on this machine (see ../README.md).
export { TestCluster, unavailable, missingTools, REQUIRED_TOOLS, type ClusterOptions, type Timing, type WaitOptions } from './cluster.js';
export { ClusterNode, NODE_INIT, type NodeProcess } from './node.js';
export { BED_PROPERTIES, loadCib, seedCib, type LoadedCib } from './cib.js';
export { parseCrmMon, type ClusterStatus, type NodeState, type ResourceState, type OpFailure } from './crm-mon.js';
export { ArpCapture, isGratuitous, parseArpLines, type ArpPacket } from './capture.js';
export { LoopDisk } from './loop-disk.js';
export { BRIDGE, CLIENT_ADDRESS, FLOATING_IP, NODE_NIC, SUBNET_PREFIX, nodeAddress } from './network.js';
export { buildOcfkit, installOcfkit, ocfGenCib, ROOT, type Provider } from './ocfkit.js';
export { run, waitFor, sleep, CommandError, Hopeless, type RunResult, type RunOptions } from './exec.js';
