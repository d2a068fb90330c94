/** Runs `holdfast server` as the CLI will, in a child process of a test. */
import { runServerCli } from '../../src/server/main.js';

process.exitCode = await runServerCli(process.argv.slice(2));
