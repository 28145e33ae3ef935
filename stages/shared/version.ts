import pkg from '../../package.json' with { type: 'json' };

export const DOCPIPE_VERSION: string = pkg.version;
