// berth: the Docker-compatible CLI's entry point (the dispatch is in cli.ts, which tests import).
import { main } from './cli.js';
import { PROG } from './context.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${PROG}: ${e && e.message ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
