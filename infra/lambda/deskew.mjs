// Lambda entry for the deskew function (image CMD infra/lambda/deskew.handler). The runtime only looks for
// .js/.mjs/.cjs modules; Node 24 strips the TypeScript types of the source it imports.
export { handler } from '../../stages/deskew/handler.ts';
