// Lambda entry for the trigger function (image CMD infra/lambda/trigger.handler). The runtime only looks for
// .js/.mjs/.cjs modules; Node 24 strips the TypeScript types of the source it imports.
export { handler } from '../../orchestration/trigger.ts';
