import type { FunctionName } from '../pipeline.ts';

/** Where each function's handler lives: the same modules the Lambda images run. */
export const FUNCTION_MODULES: Record<FunctionName, string> = {
  split: '../../stages/split/handler.ts',
  deskew: '../../stages/deskew/handler.ts',
  denoise: '../../stages/denoise/handler.ts',
  detect: '../../stages/detect/handler.ts',
  recognize: '../../stages/recognize/handler.ts',
  assemble: '../../stages/assemble/handler.ts',
  publish: '../publish.ts',
};
