import { Command } from 'commander';
import { DOCPIPE_VERSION } from '../stages/shared/version.ts';
import { describeFailure, EXIT } from './cli-support.ts';
import { registerOcr } from './commands/ocr.ts';
import { registerOps } from './commands/ops.ts';
import { registerPipeline } from './commands/pipeline.ts';

const program = new Command('docpipe')
  .description('Event-driven document OCR: split, deskew, denoise, detect and recognise text, page by page')
  .version(DOCPIPE_VERSION)
  .showHelpAfterError()
  .exitOverride((error) => {
    process.exit(error.exitCode === 0 ? EXIT.ok : EXIT.usage);
  });

registerOcr(program);
registerPipeline(program);
registerOps(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const { line, exitCode } = describeFailure(error);
  process.stderr.write(`docpipe: ${line}\n`);
  process.exitCode = exitCode;
}
