export { defineAgent, type AgentDecl, type ActionDecl, type Ctx, type SysCtx, type OpDecl, type Role } from './agent.js';
export { Deadline } from './deadline.js';
export { readCrmMeta, readOcfEnv, type CrmMeta, type NotifyInfo } from './env.js';
export { OCF, OcfError, fail, ocfCodeName } from './exit-codes.js';
export { createLogger, type Logger } from './log.js';
export { ocfBoolean, ocfIsFalse, ocfIsTrue } from './truth.js';
export { param, parseParams, type ParamDecl, type ParamValues } from './params.js';
export { createRunner, describeCommand, type RunOptions, type RunResult, type Runner } from './run.js';
