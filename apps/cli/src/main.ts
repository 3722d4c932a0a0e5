/** Entry point of the `irqlab` binary. */
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
