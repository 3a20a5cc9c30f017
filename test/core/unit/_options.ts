import { resolveOptions } from '../../../src/core/options.js';

/** The resolved defaults, for unit tests that need options without a proxy. */
export const DEFAULT_OPTIONS_FOR_TESTS = resolveOptions({});
