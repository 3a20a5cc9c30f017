#!/usr/bin/env node
import { runCli } from './cli.js';

runCli().catch((err: Error) => {
  process.stderr.write(`upshift: ${err.message}\n`);
  process.exit(1);
});
