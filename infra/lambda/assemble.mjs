// Lambda entry for the assemble function (image CMD infra/lambda/assemble.handler). The runtime only looks for
// .js/.mjs/.cjs modules; Node 24 strips the TypeScript types of the source it imports.
export { handler } from '../../stages/assemble/handler.ts';
