import { encodeS3Key, s3EventMessage } from '../../orchestration/local/notifications.ts';
import {
  decodeS3Key,
  type ExecutionStarter,
  executionNameFor,
  type PipelineInput,
  parseS3Notification,
  processIngestMessages,
} from '../../orchestration/trigger.ts';
import { documentIdFor } from '../../stages/shared/artifacts.ts';
import { InvalidEventError } from '../../stages/shared/errors.ts';

/** The real starter's contract: a second start of the same name reports started: false. */
function recordingStarter(): ExecutionStarter & { names: string[]; inputs: PipelineInput[] } {
  const names: string[] = [];
  const inputs: PipelineInput[] = [];
  return {
    names,
    inputs,
    async start(name, input) {
      const started = !names.includes(name);
      if (started) {
        names.push(name);
        inputs.push(input);
      }
      return { executionName: name, started };
    },
  };
}

const created = (key: string, etag = 'abc') =>
  s3EventMessage({ bucket: 'in', key, size: 10, etag, eventName: 'ObjectCreated:Put' }, 'us-east-1');

describe('S3 key encoding', () => {
  it.each(['my scan.pdf', 'a+b.pdf', 'résumé/été.tiff', '../escape.png', 'x%20y.png'])(
    'round-trips %s through the notification encoding',
    (key) => {
      // Act
      const decoded = decodeS3Key(encodeS3Key(key));

      // Assess
      expect(decoded).toBe(key);
    },
  );

  it('encodes spaces as + like S3 does', () => {
    expect(encodeS3Key('my scan.pdf')).toBe('my+scan.pdf');
  });
});

describe('parseS3Notification', () => {
  it('reads bucket, decoded key, etag and size from an ObjectCreated record', () => {
    // Act
    const [source] = parseS3Notification(created('in box/a+b.pdf'));

    // Assess
    expect(source).toEqual({ bucket: 'in', key: 'in box/a+b.pdf', etag: 'abc', size: 10 });
  });

  it('ignores the s3:TestEvent S3 sends when notifications are configured', () => {
    expect(parseS3Notification(JSON.stringify({ Event: 's3:TestEvent', Bucket: 'in' }))).toEqual([]);
  });

  it.each(['not json', JSON.stringify({ hello: 1 })])('rejects a message that is no S3 event: %s', (body) => {
    expect(() => parseS3Notification(body)).toThrow(InvalidEventError);
  });
});

describe('processIngestMessages', () => {
  it('starts one execution per object version, named after its document id', async () => {
    // Prepare
    const starter = recordingStarter();

    // Act
    await processIngestMessages([{ messageId: '1', body: created('a.pdf') }], starter);

    // Assess
    expect(starter.names).toEqual([
      executionNameFor(documentIdFor({ bucket: 'in', key: 'a.pdf', etag: 'abc' })),
    ]);
  });

  it('starts nothing new for a duplicated notification', async () => {
    // Prepare
    const starter = recordingStarter();
    const message = { messageId: '1', body: created('a.pdf') };

    // Act
    const first = await processIngestMessages([message], starter);
    const second = await processIngestMessages([{ ...message, messageId: '2' }], starter);

    // Assess
    expect(first.results.map((r) => r.started)).toEqual([true]);
    expect(second.results.map((r) => r.started)).toEqual([false]);
    expect(starter.names).toHaveLength(1);
  });

  it('starts a new execution for a new version of the same key', async () => {
    // Prepare
    const starter = recordingStarter();

    // Act
    await processIngestMessages(
      [
        { messageId: '1', body: created('a.pdf', 'v1') },
        { messageId: '2', body: created('a.pdf', 'v2') },
      ],
      starter,
    );

    // Assess
    expect(starter.names).toHaveLength(2);
  });

  it('reports only the failing message of a batch for redelivery', async () => {
    // Prepare
    const starter = recordingStarter();

    // Act
    const { batchItemFailures } = await processIngestMessages(
      [
        { messageId: 'good', body: created('a.pdf') },
        { messageId: 'poison', body: 'garbage' },
      ],
      starter,
    );

    // Assess
    expect(batchItemFailures).toEqual([{ itemIdentifier: 'poison' }]);
  });

  it("starts the document with the options its upload's metadata carries", async () => {
    // Prepare: one key in the case an uploader may write it, and a key that is not ours.
    const starter = recordingStarter();
    const readMetadata = async () => ({ 'docpipe-pages': ' 2-3 ', 'Docpipe-DPI': '200', owner: 'accounts' });

    // Act
    await processIngestMessages([{ messageId: '1', body: created('a.pdf') }], starter, readMetadata);

    // Assess
    const source = {
      bucket: 'in',
      key: 'a.pdf',
      etag: 'abc',
      size: 10,
      options: { pages: '2-3', dpi: '200' },
    };
    expect(starter.inputs).toEqual([{ documentId: documentIdFor(source), source }]);
  });

  it('gives the same upload another document id once it asks for other pages', async () => {
    // Prepare
    const starter = recordingStarter();
    const message = { messageId: '1', body: created('a.pdf') };

    // Act: the same object version (same etag), first read whole, then with a page selection.
    await processIngestMessages([message], starter, async () => ({}));
    await processIngestMessages([message], starter, async () => ({ 'docpipe-pages': '1' }));

    // Assess: two executions, the first with the id an upload without options always had.
    expect(starter.names).toHaveLength(2);
    expect(starter.inputs[0]!.documentId).toBe(documentIdFor({ bucket: 'in', key: 'a.pdf', etag: 'abc' }));
    expect(starter.inputs[1]!.documentId).not.toBe(starter.inputs[0]!.documentId);
  });

  it('starts a document whose object is already gone without options, for split to report it', async () => {
    // Prepare
    const starter = recordingStarter();

    // Act
    const { batchItemFailures } = await processIngestMessages(
      [{ messageId: '1', body: created('gone.pdf') }],
      starter,
      async () => undefined,
    );

    // Assess
    expect(batchItemFailures).toEqual([]);
    expect(starter.inputs[0]!.source.options).toBeUndefined();
  });

  it('leaves the message for redelivery when the metadata cannot be read', async () => {
    // Prepare
    const starter = recordingStarter();
    const unavailable = async (): Promise<Record<string, string>> => {
      throw new Error('SlowDown');
    };

    // Act
    const { batchItemFailures } = await processIngestMessages(
      [{ messageId: 'm', body: created('a.pdf') }],
      starter,
      unavailable,
    );

    // Assess
    expect(batchItemFailures).toEqual([{ itemIdentifier: 'm' }]);
    expect(starter.names).toHaveLength(0);
  });
});
