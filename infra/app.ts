import { App } from 'aws-cdk-lib';
import { resolveInfraConfig } from './config.ts';
import { DocpipeStack } from './stack.ts';

/**
 * `npm run synth|deploy|destroy` (cdk with infra/cdk.json). Settings come from CDK context
 * (`-c docpipe:<key>=<value>` or infra/cdk.json); the stack is environment-agnostic, so synth needs
 * no AWS account and deploy targets the account and region of the caller's credentials.
 */
const app = new App();
const config = resolveInfraConfig(app.node.getAllContext() as Record<string, unknown>);
new DocpipeStack(app, config.stackName, {
  config,
  description: 'docpipe: event-driven document OCR pipeline (S3 -> SQS -> Step Functions -> Lambda)',
});
app.synth();
