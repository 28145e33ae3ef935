// Lambda entry for the recognize function (image CMD infra/lambda/recognize.handler). The runtime only looks for
// .js/.mjs/.cjs modules; Node 24 strips the TypeScript types of the source it imports.
export { handler } from '../../stages/recognize/handler.ts';
