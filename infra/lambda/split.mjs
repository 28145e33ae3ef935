// Lambda entry for the split function (image CMD infra/lambda/split.handler). The runtime only looks for
// .js/.mjs/.cjs modules; Node 24 strips the TypeScript types of the source it imports.
export { handler } from '../../stages/split/handler.ts';
