// Lambda entry for the publish function (image CMD infra/lambda/publish.handler). The runtime only looks for
// .js/.mjs/.cjs modules; Node 24 strips the TypeScript types of the source it imports.
export { handler } from '../../orchestration/publish.ts';
