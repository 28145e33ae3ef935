// Lambda entry for the detect function (image CMD infra/lambda/detect.handler). The runtime only looks for
// .js/.mjs/.cjs modules; Node 24 strips the TypeScript types of the source it imports.
export { handler } from '../../stages/detect/handler.ts';
