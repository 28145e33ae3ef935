// Lambda entry for the denoise function (image CMD infra/lambda/denoise.handler). The runtime only looks for
// .js/.mjs/.cjs modules; Node 24 strips the TypeScript types of the source it imports.
export { handler } from '../../stages/denoise/handler.ts';
