import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import validator from 'asl-validator';
import { App, Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import {
  ALL_FUNCTIONS,
  type DeployedFunction,
  HANDLER_MODULES,
  PIPELINE_FUNCTIONS,
  resolveInfraConfig,
} from '../../infra/config.ts';
import { DocpipeStack, REPO_ROOT } from '../../infra/stack.ts';
import { readPipelineConfig } from '../../orchestration/config.ts';
import {
  FUNCTION_PLACEHOLDERS,
  type FunctionName,
  loadPipelineDefinition,
  PIPELINE_ASL_PATH,
  substitute,
} from '../../orchestration/pipeline.ts';
import { InvalidOptionError } from '../../stages/shared/errors.ts';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are open JSON.
type Json = any;

/** The feature flags `cdk synth` runs with: tests synthesize the same stack the CLI does. */
const CDK_CONTEXT = JSON.parse(readFileSync(join(REPO_ROOT, 'infra/cdk.json'), 'utf8')).context as Record<
  string,
  unknown
>;

/**
 * Each App synthesizes into a directory of its own, removed after the file's tests: left to CDK,
 * every run would leave its cloud assemblies in the system temp directory (38 MB for the stack
 * with its model assets), and they pile up.
 */
const assemblyDirs: string[] = [];
afterAll(() => {
  for (const dir of assemblyDirs) rmSync(dir, { recursive: true, force: true });
});

function synth(context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(join(tmpdir(), 'docpipe-cdk-test-'));
  assemblyDirs.push(outdir);
  const app = new App({ outdir, context: { ...CDK_CONTEXT, ...context } });
  const stack = new DocpipeStack(app, 'Docpipe', { config: resolveInfraConfig(context) });
  const template = Template.fromStack(stack);
  return { app, stack, template, json: template.toJSON() as Json };
}

/** Renders Ref / Fn::GetAtt / Fn::Join / Fn::Sub as readable strings: `<LogicalId>`, `<LogicalId.Arn>`. */
function render(value: Json): string {
  if (typeof value === 'string') return value;
  if (value.Ref !== undefined) return `<${value.Ref}>`;
  if (value['Fn::GetAtt'] !== undefined) return `<${value['Fn::GetAtt'].join('.')}>`;
  if (value['Fn::Join'] !== undefined) return value['Fn::Join'][1].map(render).join(value['Fn::Join'][0]);
  if (value['Fn::Sub'] !== undefined) return String(value['Fn::Sub']);
  throw new Error(`cannot render ${JSON.stringify(value)}`);
}

function resourcesOfType(json: Json, type: string): Array<[string, Json]> {
  return Object.entries(json.Resources as Record<string, Json>).filter(([, r]) => r.Type === type);
}

function statements(policy: Json): Json[] {
  return policy.Properties.PolicyDocument.Statement;
}

const list = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

/** Function logical id -> RetentionInDays of the log group its LoggingConfig names (undefined: none). */
function logRetentions(json: Json): Record<string, number | undefined> {
  return Object.fromEntries(
    resourcesOfType(json, 'AWS::Lambda::Function').map(([logicalId, fn]) => {
      const group = fn.Properties.LoggingConfig?.LogGroup?.Ref;
      return [logicalId, group === undefined ? undefined : json.Resources[group]?.Properties.RetentionInDays];
    }),
  );
}

describe('DocpipeStack (default settings)', () => {
  let stack: DocpipeStack;
  let template: Template;
  let json: Json;
  let app: App;
  const id = (construct: { node: { defaultChild?: unknown } }) =>
    stack.getLogicalId(construct.node.defaultChild as never);
  const bucketId = (name: 'input' | 'artifacts' | 'results' | 'models') => id(stack.buckets[name]);
  const fnId = (fn: DeployedFunction) => id(stack.functions[fn]);
  /** The AWS::IAM::Policy attached to a function's role. */
  const rolePolicy = (fn: DeployedFunction): Json => {
    const roleId = stack.getLogicalId(stack.functions[fn].role!.node.defaultChild as never);
    const found = resourcesOfType(json, 'AWS::IAM::Policy').find(([, p]) =>
      p.Properties.Roles.some((r: Json) => r.Ref === roleId),
    );
    if (!found) throw new Error(`no policy for ${fn}`);
    return found[1];
  };

  beforeAll(() => {
    ({ app, stack, template, json } = synth());
  });

  it('creates the four buckets with public access blocked, SSE and TLS enforced', () => {
    // Prepare
    const buckets = resourcesOfType(json, 'AWS::S3::Bucket');

    // Act
    const policies = resourcesOfType(json, 'AWS::S3::BucketPolicy');

    // Assess
    expect(buckets.map(([logicalId]) => logicalId).sort()).toEqual(
      (['input', 'artifacts', 'results', 'models'] as const).map(bucketId).sort(),
    );
    for (const [, bucket] of buckets) {
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(
        bucket.Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
      ).toEqual({ SSEAlgorithm: 'AES256' });
    }
    const tlsEnforced = policies
      .filter(([, p]) =>
        statements(p).some(
          (s: Json) =>
            s.Effect === 'Deny' &&
            s.Condition?.Bool?.['aws:SecureTransport'] === 'false' &&
            s.Action === 's3:*',
        ),
      )
      .map(([, p]) => p.Properties.Bucket.Ref)
      .sort();
    expect(tlsEnforced).toEqual(buckets.map(([logicalId]) => logicalId).sort());
  });

  it('expires intermediate artifacts with a lifecycle rule on the whole artifacts bucket only', () => {
    // Prepare
    const expiring = (name: 'input' | 'artifacts' | 'results' | 'models') =>
      (json.Resources[bucketId(name)].Properties.LifecycleConfiguration.Rules as Json[]).filter(
        (rule) => rule.ExpirationInDays !== undefined,
      );

    // Act
    const artifacts = expiring('artifacts');

    // Assess
    expect(artifacts).toEqual([
      { Id: 'expire-intermediate-artifacts', ExpirationInDays: 7, Status: 'Enabled' },
    ]);
    for (const other of ['input', 'results', 'models'] as const) expect(expiring(other)).toEqual([]);
  });

  it('sends s3:ObjectCreated:* from the input bucket to the ingest queue, after the queue policy allows it', () => {
    // Prepare
    const ingestQueue = id(stack.ingestQueue);
    const queuePolicy = resourcesOfType(json, 'AWS::SQS::QueuePolicy').find(([, p]) =>
      p.Properties.Queues.some((q: Json) => q.Ref === ingestQueue),
    );

    // Act
    const input = json.Resources[bucketId('input')];

    // Assess
    expect(input.Properties.NotificationConfiguration).toEqual({
      QueueConfigurations: [{ Event: 's3:ObjectCreated:*', Queue: { 'Fn::GetAtt': [ingestQueue, 'Arn'] } }],
    });
    expect(queuePolicy).toBeDefined();
    expect(input.DependsOn).toContain(queuePolicy![0]);
    const allowS3 = statements(queuePolicy![1]).find(
      (s: Json) => s.Principal?.Service === 's3.amazonaws.com',
    );
    expect(allowS3.Action).toBe('sqs:SendMessage');
    expect(render(allowS3.Condition.ArnEquals['aws:SourceArn'])).toBe(
      `arn:<AWS::Partition>:s3:::${render(input.Properties.BucketName)}`,
    );
    expect(allowS3.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
  });

  it('gives the ingest and results queues DLQs with maxReceiveCount 5, SSE and TLS-only policies', () => {
    // Prepare
    const pairs = [
      [stack.ingestQueue, stack.ingestDlq],
      [stack.resultsQueue, stack.resultsDlq],
    ] as const;

    // Act
    const queues = pairs.map(([queue]) => json.Resources[id(queue)]);

    // Assess
    pairs.forEach(([, dlq], index) => {
      expect(queues[index].Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [id(dlq), 'Arn'] },
        maxReceiveCount: 5,
      });
    });
    for (const [, queue] of resourcesOfType(json, 'AWS::SQS::Queue')) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
    const tlsOnly = resourcesOfType(json, 'AWS::SQS::QueuePolicy').flatMap(([, p]) =>
      statements(p)
        .filter((s: Json) => s.Effect === 'Deny' && s.Condition?.Bool?.['aws:SecureTransport'] === 'false')
        .flatMap(() => p.Properties.Queues.map((q: Json) => q.Ref)),
    );
    expect(tlsOnly.sort()).toEqual(
      resourcesOfType(json, 'AWS::SQS::Queue')
        .map(([logicalId]) => logicalId)
        .sort(),
    );
  });

  it('sizes the ingest visibility timeout to six trigger timeouts plus the batch window', () => {
    // Prepare
    const trigger = stack.config.functions.trigger.timeoutSeconds;

    // Act
    const queue = json.Resources[id(stack.ingestQueue)];

    // Assess
    expect(queue.Properties.VisibilityTimeout).toBe(6 * trigger + stack.config.triggerBatchWindowSeconds);
  });

  it('wires the trigger to the ingest queue with partial batch failure reporting', () => {
    // Prepare
    const expected = {
      EventSourceArn: { 'Fn::GetAtt': [id(stack.ingestQueue), 'Arn'] },
      FunctionName: { Ref: fnId('trigger') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 1,
    };

    // Act
    const mappings = resourcesOfType(json, 'AWS::Lambda::EventSourceMapping');

    // Assess
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject(expected);
  });

  it('runs every function from the one image with its own command, and each command resolves to its handler', () => {
    // Prepare
    const imageUris = new Set<string>();

    // Act
    const commands = ALL_FUNCTIONS.map((fn) => {
      const props = json.Resources[fnId(fn)].Properties;
      imageUris.add(JSON.stringify(props.Code.ImageUri));
      expect(props.PackageType).toBe('Image');
      return [fn, props.ImageConfig.Command] as const;
    });

    // Assess
    expect(imageUris.size).toBe(1);
    for (const [fn, command] of commands) {
      expect(command).toEqual([`infra/lambda/${fn}.handler`]);
      const entry = readFileSync(join(REPO_ROOT, `infra/lambda/${fn}.mjs`), 'utf8');
      expect(entry).toContain(`export { handler } from '../../${HANDLER_MODULES[fn]}';`);
    }
    expect(readdirSync(join(REPO_ROOT, 'infra/lambda')).sort()).toEqual(
      ALL_FUNCTIONS.map((fn) => `${fn}.mjs`).sort(),
    );
  });

  it('applies the default memory, timeout (the Task state timeout) and ephemeral storage per stage', () => {
    // Prepare
    const expected: Record<DeployedFunction, [number, number]> = {
      split: [2048, 900],
      deskew: [1769, 300],
      denoise: [1769, 300],
      detect: [3538, 300],
      recognize: [3538, 300],
      assemble: [1024, 300],
      publish: [256, 60],
      trigger: [256, 60],
    };

    // Act
    const actual = Object.fromEntries(
      ALL_FUNCTIONS.map((fn) => {
        const p = json.Resources[fnId(fn)].Properties;
        expect(p.EphemeralStorage).toEqual({ Size: 512 });
        return [fn, [p.MemorySize, p.Timeout]];
      }),
    );

    // Assess
    expect(actual).toEqual(expected);
  });

  it('gives each function the environment its handler reads', () => {
    // Prepare
    const env = (fn: DeployedFunction) =>
      Object.fromEntries(
        Object.entries(json.Resources[fnId(fn)].Properties.Environment.Variables as Record<string, Json>).map(
          ([k, v]) => [k, render(v)],
        ),
      );

    // Act
    const split = env('split');
    const detect = env('detect');
    const publish = env('publish');
    const trigger = env('trigger');

    // Assess
    expect(split).toMatchObject({
      DOCPIPE_INPUT_BUCKET: `<${bucketId('input')}>`,
      DOCPIPE_ARTIFACTS_BUCKET: `<${bucketId('artifacts')}>`,
      DOCPIPE_RESULTS_BUCKET: `<${bucketId('results')}>`,
      DOCPIPE_MODEL_STORE: `s3://<${bucketId('models')}>/models`,
      DOCPIPE_MODEL_CACHE: '/tmp/docpipe-models',
      DOCPIPE_LOG_LEVEL: 'info',
      DOCPIPE_SEARCHABLE_PDF: 'true',
    });
    expect(split.DOCPIPE_ORT_THREADS).toBeUndefined();
    expect(detect.DOCPIPE_ORT_THREADS).toBe('2');
    expect(publish.DOCPIPE_RESULTS_QUEUE_URL).toBe(`<${id(stack.resultsQueue)}>`);
    expect(trigger.DOCPIPE_STATE_MACHINE_ARN).toBe(`<${id(stack.stateMachine)}>`);
  });

  it('sets a retention on the log group of every Lambda function in the template', () => {
    // Prepare
    const functions = resourcesOfType(json, 'AWS::Lambda::Function');

    // Act
    const retentions = logRetentions(json);

    // Assess
    expect(functions.length).toBe(ALL_FUNCTIONS.length + 1);
    expect(retentions).toEqual(Object.fromEntries(functions.map(([logicalId]) => [logicalId, 30])));
  });

  it('deploys the state machine from orchestration/pipeline.asl.json with every placeholder bound to its function', () => {
    // Prepare
    const expected = substitute(
      JSON.stringify(loadPipelineDefinition()),
      Object.fromEntries(
        (Object.entries(FUNCTION_PLACEHOLDERS) as Array<[FunctionName, string]>).map(([fn, placeholder]) => [
          placeholder,
          `<${fnId(fn)}.Arn>`,
        ]),
      ),
    );
    const [, machine] = resourcesOfType(json, 'AWS::StepFunctions::StateMachine')[0]!;

    // Act
    const substitutions = Object.fromEntries(
      Object.entries(machine.Properties.DefinitionSubstitutions as Record<string, Json>).map(([k, v]) => [
        k,
        render(v),
      ]),
    );
    const deployed = substitute(render(machine.Properties.DefinitionString), substitutions);

    // Assess
    expect(JSON.parse(deployed)).toEqual(JSON.parse(expected));
    expect(deployed).not.toMatch(/\$\{/);
    expect(Object.keys(substitutions).sort()).toEqual(Object.values(FUNCTION_PLACEHOLDERS).sort());
  });

  it('runs a Standard workflow with ERROR logging to a retained log group and X-Ray tracing', () => {
    // Prepare
    const logGroup = new Capture();

    // Act
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ERROR',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroup, 'Arn'] } } }],
      },
    });

    // Assess
    expect(json.Resources[logGroup.asString()].Properties.RetentionInDays).toBe(30);
  });

  it('lets the state machine invoke the seven pipeline functions and nothing else', () => {
    // Prepare
    const machineRole = stack.getLogicalId(stack.stateMachine.role.node.defaultChild as never);
    const [, policy] = resourcesOfType(json, 'AWS::IAM::Policy').find(([, p]) =>
      p.Properties.Roles.some((r: Json) => r.Ref === machineRole),
    )!;

    // Act
    const invoke = statements(policy).filter((s: Json) =>
      list(s.Action).some((a: string) => a.startsWith('lambda:')),
    );
    const targets = new Set(invoke.flatMap((s: Json) => list(s.Resource).map(render)));

    // Assess
    expect(invoke.flatMap((s: Json) => list(s.Action))).toEqual(['lambda:InvokeFunction']);
    const allowed = PIPELINE_FUNCTIONS.flatMap((fn) => [`<${fnId(fn)}.Arn>`, `<${fnId(fn)}.Arn>:*`]);
    expect([...targets].sort()).toEqual(allowed.sort());
  });

  it('never grants an S3, SQS or Step Functions action on a wildcard resource; the only "*" resources are the listed AWS-required ones', () => {
    // Prepare
    // CDK adds these for X-Ray tracing (functions, state machine) and for Step Functions log delivery,
    // whose APIs take no resource ARN.
    const allowedWildcardActions = new Set([
      'xray:PutTraceSegments',
      'xray:PutTelemetryRecords',
      'xray:GetSamplingRules',
      'xray:GetSamplingTargets',
      'logs:CreateLogDelivery',
      'logs:GetLogDelivery',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:ListLogDeliveries',
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
    ]);
    const policies = [
      ...resourcesOfType(json, 'AWS::IAM::Policy').map(
        ([logicalId, p]) => [logicalId, statements(p)] as const,
      ),
      ...resourcesOfType(json, 'AWS::IAM::ManagedPolicy').map(
        ([logicalId, p]) => [logicalId, statements(p)] as const,
      ),
      ...resourcesOfType(json, 'AWS::IAM::Role').flatMap(([logicalId, r]) =>
        (r.Properties.Policies ?? []).map((p: Json) => [logicalId, p.PolicyDocument.Statement] as const),
      ),
    ];

    // Act
    const violations: string[] = [];
    for (const [logicalId, statementList] of policies) {
      for (const statement of statementList) {
        if (statement.Effect !== 'Allow') continue;
        const resources = list(statement.Resource).map(render);
        const actions = list(statement.Action) as string[];
        const scoped = actions.filter((a) => /^(s3|sqs|states):/.test(a));
        for (const resource of resources) {
          if (
            scoped.length > 0 &&
            (resource === '*' || /^arn:[^:]*:(s3|sqs|states):[^:]*:[^:]*:\*$/.test(resource))
          ) {
            violations.push(`${logicalId}: ${scoped.join(',')} on ${resource}`);
          }
          if (resource === '*') {
            for (const action of actions) {
              if (!allowedWildcardActions.has(action)) violations.push(`${logicalId}: ${action} on *`);
            }
          }
        }
      }
    }

    // Assess
    expect(policies.length).toBeGreaterThan(ALL_FUNCTIONS.length);
    expect(violations).toEqual([]);
  });

  it('scopes each function to the buckets, prefixes and actions its stage needs', () => {
    // Prepare
    const b = (name: 'input' | 'artifacts' | 'results' | 'models') => `<${bucketId(name)}.Arn>`;
    const expected: Record<DeployedFunction, string[]> = {
      split: [
        `s3:GetObject ${b('input')}/*`,
        `s3:ListBucket ${b('input')}`,
        `s3:GetObject ${b('artifacts')}/*`,
        `s3:PutObject ${b('artifacts')}/*`,
        `s3:ListBucket ${b('artifacts')}`,
      ],
      deskew: [
        `s3:GetObject ${b('artifacts')}/*`,
        `s3:PutObject ${b('artifacts')}/*`,
        `s3:ListBucket ${b('artifacts')}`,
        `s3:GetObject ${b('models')}/models/*`,
      ],
      denoise: [
        `s3:GetObject ${b('artifacts')}/*`,
        `s3:PutObject ${b('artifacts')}/*`,
        `s3:ListBucket ${b('artifacts')}`,
      ],
      detect: [
        `s3:GetObject ${b('artifacts')}/*`,
        `s3:PutObject ${b('artifacts')}/*`,
        `s3:ListBucket ${b('artifacts')}`,
        `s3:GetObject ${b('models')}/models/*`,
      ],
      recognize: [
        `s3:GetObject ${b('artifacts')}/*`,
        `s3:PutObject ${b('artifacts')}/*`,
        `s3:ListBucket ${b('artifacts')}`,
        `s3:GetObject ${b('models')}/models/*`,
      ],
      assemble: [
        `s3:GetObject ${b('artifacts')}/*`,
        `s3:ListBucket ${b('artifacts')}`,
        `s3:PutObject ${b('results')}/*`,
      ],
      publish: [
        `s3:GetObject ${b('results')}/*/events/*`,
        `s3:PutObject ${b('results')}/*/events/*`,
        `s3:ListBucket ${b('results')}`,
        `sqs:SendMessage <${id(stack.resultsQueue)}.Arn>`,
      ],
      trigger: [
        ...[
          'ChangeMessageVisibility',
          'DeleteMessage',
          'GetQueueAttributes',
          'GetQueueUrl',
          'ReceiveMessage',
        ].map((a) => `sqs:${a} <${id(stack.ingestQueue)}.Arn>`),
        `states:StartExecution <${id(stack.stateMachine)}>`,
        `s3:GetObject ${b('input')}/*`,
        `s3:ListBucket ${b('input')}`,
      ],
    };

    // Act
    const actual = Object.fromEntries(
      ALL_FUNCTIONS.map((fn) => [
        fn,
        statements(rolePolicy(fn))
          .filter((s: Json) => s.Effect === 'Allow')
          .flatMap((s: Json) =>
            (list(s.Action) as string[])
              .filter((a) => !a.startsWith('xray:'))
              .flatMap((a) => list(s.Resource).map((r) => `${a} ${render(r)}`)),
          )
          .sort(),
      ]),
    );

    // Assess
    expect(actual).toEqual(
      Object.fromEntries(Object.entries(expected).map(([fn, grants]) => [fn, grants.sort()])),
    );
  });

  it('alarms on both DLQs and on failed executions, notifying the alarm topic', () => {
    // Prepare
    const topic = id(stack.alarmTopic);

    // Act
    const alarms = resourcesOfType(json, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);

    // Assess
    const watched = alarms
      .map((a) => `${a.Namespace}/${a.MetricName}/${render(a.Dimensions[0].Value)}`)
      .sort();
    expect(watched).toEqual(
      [
        `AWS/SQS/ApproximateNumberOfMessagesVisible/<${id(stack.ingestDlq)}.QueueName>`,
        `AWS/SQS/ApproximateNumberOfMessagesVisible/<${id(stack.resultsDlq)}.QueueName>`,
        `AWS/States/ExecutionsFailed/<${id(stack.stateMachine)}>`,
      ].sort(),
    );
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        AlarmActions: [{ Ref: topic }],
      });
    }
  });

  it('uploads the bundled models under models/ without pruning models added later', () => {
    // Prepare
    const expected = {
      DestinationBucketName: { Ref: bucketId('models') },
      DestinationBucketKeyPrefix: 'models/',
      Prune: false,
    };

    // Act
    const deployments = resourcesOfType(json, 'Custom::CDKBucketDeployment');

    // Assess
    expect(deployments).toHaveLength(1);
    expect(deployments[0]![1].Properties).toMatchObject(expected);
  });

  it('scopes the DocpipeOperator policy to this state machine, its executions, buckets and queues', () => {
    // Prepare
    const machine = id(stack.stateMachine);

    // Act
    const [, policy] = resourcesOfType(json, 'AWS::IAM::ManagedPolicy')[0]!;
    const grants = statements(policy).flatMap((s: Json) =>
      (list(s.Action) as string[]).flatMap((a) => list(s.Resource).map((r) => [a, render(r)] as const)),
    );

    // Assess
    const states = grants.filter(([a]) => a.startsWith('states:'));
    expect(states.map(([a]) => a).sort()).toEqual(
      [
        'states:DescribeExecution',
        'states:DescribeStateMachine',
        'states:GetExecutionHistory',
        'states:ListExecutions',
        'states:RedriveExecution',
        'states:StartExecution',
        'states:StopExecution',
      ].sort(),
    );
    for (const [action, resource] of states) {
      if (
        ['states:StartExecution', 'states:ListExecutions', 'states:DescribeStateMachine'].includes(action)
      ) {
        expect(resource).toBe(`<${machine}>`);
      } else {
        expect(resource).toMatch(
          /^arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:.+:\*$/,
        );
        expect(resource).toContain(machine);
      }
    }
  });

  it('gives the DocpipeOperator policy the S3 access every CLI command needs, and no more', () => {
    // Prepare: submit (input), results and events (results), describe, the waits' progress and the
    // replay's expiry check (a listing of artifacts), models list and put (models/*).
    const b = (name: 'input' | 'artifacts' | 'results' | 'models') => `<${bucketId(name)}.Arn>`;
    const expected = [
      `s3:PutObject ${b('input')}/*`,
      `s3:GetObject ${b('results')}/*`,
      `s3:GetObject ${b('models')}/models/*`,
      `s3:PutObject ${b('models')}/models/*`,
      `s3:ListBucket ${b('input')}`,
      `s3:ListBucket ${b('results')}`,
      `s3:ListBucket ${b('artifacts')}`,
      `s3:ListBucket ${b('models')}`,
    ].sort();

    // Act
    const [, policy] = resourcesOfType(json, 'AWS::IAM::ManagedPolicy')[0]!;
    const grants = statements(policy)
      .flatMap((s: Json) =>
        (list(s.Action) as string[]).flatMap((a) => list(s.Resource).map((r) => `${a} ${render(r)}`)),
      )
      .filter((grant: string) => grant.startsWith('s3:'))
      .sort();

    // Assess
    expect(grants).toEqual(expected);
  });

  it('outputs a CLI environment block that readPipelineConfig turns into this stack', () => {
    // Prepare
    const block = render(json.Outputs.CliEnvironment.Value);

    // Act
    const env = Object.fromEntries(block.split(' ').map((pair) => pair.split('=') as [string, string]));
    const config = readPipelineConfig(env);

    // Assess
    expect(config).toEqual({
      region: '<AWS::Region>',
      endpoint: undefined,
      inputBucket: `<${bucketId('input')}>`,
      artifactsBucket: `<${bucketId('artifacts')}>`,
      resultsBucket: `<${bucketId('results')}>`,
      modelsBucket: `<${bucketId('models')}>`,
      ingestQueue: `<${id(stack.ingestQueue)}>`,
      ingestDlq: `<${id(stack.ingestDlq)}>`,
      resultsQueue: `<${id(stack.resultsQueue)}>`,
      stateMachineArn: `<${id(stack.stateMachine)}>`,
    });
    for (const key of [
      'InputBucketName',
      'ResultsBucketName',
      'IngestQueueUrl',
      'ResultsQueueUrl',
      'StateMachineArn',
    ]) {
      expect(json.Outputs[key]).toBeDefined();
    }
  });

  it('stages an image build context with only the allow-listed sources (no node_modules, tests or scratch files)', () => {
    // Prepare
    const assembly = app.synth();
    const manifest = JSON.parse(
      readFileSync(join(assembly.directory, `${Stack.of(stack).artifactId}.assets.json`), 'utf8'),
    );

    // Act
    const images = Object.values(manifest.dockerImages as Record<string, Json>);
    const context = join(assembly.directory, images[0].source.directory);
    const top = readdirSync(context).sort();

    // Assess
    expect(images).toHaveLength(1);
    expect(images[0].source.dockerFile).toBe('infra/Dockerfile');
    expect(images[0].source.platform).toBe('linux/amd64');
    expect(top).toEqual(['infra', 'orchestration', 'package-lock.json', 'package.json', 'stages']);
    expect(readdirSync(join(context, 'infra')).sort()).toEqual(['Dockerfile', 'lambda']);
    expect(existsSync(join(context, 'stages/shared/models.json'))).toBe(true);
  });
});

describe('DocpipeStack settings', () => {
  let template: Template;
  let json: Json;
  let stack: DocpipeStack;

  beforeAll(() => {
    ({ template, json, stack } = synth({
      'docpipe:deployModels': 'false',
      'docpipe:removalPolicy': 'destroy',
      'docpipe:maxConcurrency': '4',
      'docpipe:stateMachineLogLevel': 'ALL',
      'docpipe:architecture': 'arm64',
      'docpipe:namePrefix': 'ocr-dev',
      'docpipe:maxReceiveCount': 3,
      'docpipe:detect.memory': '5307',
      'docpipe:split.ephemeralStorage': 2048,
      'docpipe:maxPages': '50',
      'docpipe:alarmEmail': 'ops@example.com',
      'docpipe:searchablePdf': 'false',
    }));
  });

  it('applies context overrides to the functions, queues, workflow and buckets', () => {
    // Prepare
    const detect =
      json.Resources[stack.getLogicalId(stack.functions.detect.node.defaultChild as never)].Properties;
    const split =
      json.Resources[stack.getLogicalId(stack.functions.split.node.defaultChild as never)].Properties;
    const [, machine] = resourcesOfType(json, 'AWS::StepFunctions::StateMachine')[0]!;

    // Act
    const definition = JSON.parse(render(machine.Properties.DefinitionString));

    // Assess
    expect(detect).toMatchObject({ MemorySize: 5307, Architectures: ['arm64'] });
    expect(detect.Environment.Variables).toMatchObject({
      DOCPIPE_ORT_THREADS: '3',
      DOCPIPE_MAX_PAGES: '50',
      DOCPIPE_SEARCHABLE_PDF: 'false',
    });
    expect(split.EphemeralStorage).toEqual({ Size: 2048 });
    expect(definition.States.Pages.MaxConcurrency).toBe(4);
    expect(machine.Properties.LoggingConfiguration.Level).toBe('ALL');
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 3 }),
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    for (const [, bucket] of resourcesOfType(json, 'AWS::S3::Bucket')) {
      expect(bucket.DeletionPolicy).toBe('Delete');
      expect(render(bucket.Properties.BucketName)).toMatch(
        /^ocr-dev-(input|artifacts|results|models)-<AWS::AccountId>-<AWS::Region>$/,
      );
    }
    expect(resourcesOfType(json, 'Custom::CDKBucketDeployment')).toHaveLength(0);
  });

  it('sets a retention on every function, including the auto-delete handler CDK adds for removalPolicy destroy', () => {
    // Prepare
    const autoDelete = resourcesOfType(json, 'Custom::S3AutoDeleteObjects');

    // Act
    const retentions = logRetentions(json);

    // Assess
    expect(autoDelete).toHaveLength(4);
    expect(Object.keys(retentions)).toHaveLength(ALL_FUNCTIONS.length + 1);
    for (const retention of Object.values(retentions)) expect(retention).toBe(30);
  });

  it('keeps the no-wildcard rule when buckets empty themselves on delete', () => {
    // Prepare
    const roles = resourcesOfType(json, 'AWS::IAM::Role');

    // Act
    const wildcards = roles.flatMap(([logicalId, r]) =>
      (r.Properties.Policies ?? []).flatMap((p: Json) =>
        (p.PolicyDocument.Statement as Json[])
          .filter(
            (s) =>
              list(s.Resource).some((x) => x === '*') &&
              list(s.Action).some((a: string) => /^(s3|sqs|states):/.test(a)),
          )
          .map(() => logicalId),
      ),
    );

    // Assess
    expect(wildcards).toEqual([]);
  });
});

describe('resolveInfraConfig', () => {
  it('rejects an unknown docpipe: context key, naming it', () => {
    // Prepare
    const context = { 'docpipe:detect.memmory': 4096 };

    // Act
    const act = () => resolveInfraConfig(context);

    // Assess
    expect(act).toThrow(InvalidOptionError);
    expect(act).toThrow(/docpipe:detect\.memmory/);
  });

  it('rejects a memory size Lambda does not offer', () => {
    // Prepare
    const context = { 'docpipe:recognize.memory': '20000' };

    // Act
    const act = () => resolveInfraConfig(context);

    // Assess
    expect(act).toThrow(/docpipe:recognize\.memory/);
  });

  it('rejects a bucket name prefix S3 would refuse', () => {
    // Prepare
    const context = { 'docpipe:namePrefix': 'Docpipe_Prod' };

    // Act
    const act = () => resolveInfraConfig(context);

    // Assess
    expect(act).toThrow(/docpipe:namePrefix/);
  });
});

describe('orchestration/pipeline.asl.json', () => {
  it('passes asl-validator as written and after substitution with Lambda ARNs', () => {
    // Prepare
    const raw = JSON.parse(readFileSync(PIPELINE_ASL_PATH, 'utf8'));
    const arns = Object.fromEntries(
      Object.values(FUNCTION_PLACEHOLDERS).map((p) => [
        p,
        `arn:aws:lambda:us-east-1:123456789012:function:${p}`,
      ]),
    );

    // Act
    const asWritten = validator(raw);
    const deployed = validator(JSON.parse(substitute(JSON.stringify(loadPipelineDefinition()), arns)));

    // Assess
    expect(asWritten.errorsText()).toBe('');
    expect(asWritten.isValid).toBe(true);
    expect(deployed.isValid).toBe(true);
  });
});
