// berth: the Docker-compatible CLI's entry point (the dispatch is in cli.ts, which tests import).
import { main } from './cli.js';
import { PROG } from './context.js';

// A reader that goes away (`berth logs x | head`) ends the CLI quietly with 141, as SIGPIPE ends
// docker's, instead of an unhandled EPIPE and its stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(141);
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`${PROG}: ${e && e.message ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
