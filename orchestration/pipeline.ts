import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { integerIn } from '../stages/shared/validate.ts';

/** The one workflow definition, deployed by the CDK app and run locally by the embedded engine. */
export const PIPELINE_ASL_PATH = fileURLToPath(new URL('./pipeline.asl.json', import.meta.url));

/** `${Name}` placeholders in the ASL file, substituted with function ARNs (CDK definitionSubstitutions). */
export const FUNCTION_PLACEHOLDERS = {
  split: 'SplitFunctionArn',
  deskew: 'DeskewFunctionArn',
  denoise: 'DenoiseFunctionArn',
  detect: 'DetectFunctionArn',
  recognize: 'RecognizeFunctionArn',
  assemble: 'AssembleFunctionArn',
  publish: 'PublishFunctionArn',
} as const;

export type FunctionName = keyof typeof FUNCTION_PLACEHOLDERS;

/** Task state name -> the function that runs it. */
export const TASK_FUNCTIONS: Record<string, FunctionName> = {
  Split: 'split',
  Deskew: 'deskew',
  Denoise: 'denoise',
  Detect: 'detect',
  Recognize: 'recognize',
  Assemble: 'assemble',
  PublishProcessed: 'publish',
  PublishFailed: 'publish',
};

export interface DefinitionOptions {
  /** Upper bound of pages processed at once per document (Map MaxConcurrency; 0 = no bound). */
  maxConcurrency?: number;
}

// biome-ignore lint/suspicious/noExplicitAny: ASL is open JSON; the validator owns its shape.
export type AslDefinition = Record<string, any>;

/**
 * Reads the ASL file and applies the settings that JSON placeholders cannot carry (numbers).
 * ARNs stay `${...}` placeholders: CDK substitutes them at deploy time, the local engine binds
 * the Task states to handlers by state name.
 */
export function loadPipelineDefinition(options: DefinitionOptions = {}): AslDefinition {
  const definition = JSON.parse(readFileSync(PIPELINE_ASL_PATH, 'utf8')) as AslDefinition;
  if (options.maxConcurrency !== undefined) {
    definition.States.Pages.MaxConcurrency = integerIn('maxConcurrency', options.maxConcurrency, 0, 1000);
  }
  return definition;
}

/** Replaces `${Name}` placeholders the way Step Functions definitionSubstitutions does. */
export function substitute(definitionJson: string, substitutions: Record<string, string>): string {
  return definitionJson.replace(
    /\$\{([A-Za-z0-9_]+)\}/g,
    (match, name: string) => substitutions[name] ?? match,
  );
}
