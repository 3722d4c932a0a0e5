/**
 * The `irqlab` command line. `runCli` is pure apart from the injected I/O so
 * tests can drive it; main.ts binds it to the process. Unknown options and bad
 * values print one line naming the culprit and return exit code 2, never a
 * stack trace.
 */
import { writeFileSync } from "node:fs";
import { toChromeTraceJson } from "@irqlab/sim";
import { Command, CommanderError, Option } from "commander";
import { parseDuration, parseSeed } from "./parse.js";
import { formatSimDemo, runSimDemo } from "./sim-demo/run-sim-demo.js";
import { VERSION } from "./version.js";

/** Where the CLI writes. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

interface SimOpts {
  seed: number;
  duration: number;
  period: number;
  latency: number;
  trace: string | false;
}

function buildProgram(io: CliIo): Command {
  const output = {
    writeOut: (s: string) => {
      io.out(s);
    },
    writeErr: (s: string) => {
      io.err(s);
    },
  };
  const program = new Command("irqlab")
    .description(
      "A deterministic, register-exact model of the interrupt-virtualization stack of KVM and QEMU " +
        "(Arm GICv3/ITS/GICv4.1, RISC-V AIA). Without a command, runs `sim`.",
    )
    .version(VERSION, "-V, --version", "print the version and exit")
    .helpOption("-h, --help", "show help")
    .exitOverride()
    .configureOutput(output)
    .showSuggestionAfterError(true);

  const sim = new Command("sim")
    .description("run the simulation-kernel demo: a periodic device on the MMIO bus, its interrupt handled by a driver")
    .addOption(new Option("--seed <n>", "seed of the random streams").argParser(parseSeed).default(1))
    .addOption(new Option("--duration <time>", "virtual time to simulate (ns, us, ms, s)").argParser(parseDuration).default(1_000_000, "1ms"))
    .addOption(new Option("--period <time>", "period of the device").argParser(parseDuration).default(10_000, "10us"))
    .addOption(new Option("--latency <time>", "mean interrupt delivery latency").argParser(parseDuration).default(800, "800ns"))
    .option("--trace <file>", "write a Chrome Trace Event JSON file (Perfetto, speedscope)", "irqlab-trace.json")
    .option("--no-trace", "do not write a trace")
    .exitOverride()
    .configureOutput(output)
    .action((opts: SimOpts) => {
      const options = {
        seed: opts.seed,
        duration: opts.duration,
        period: opts.period,
        meanLatency: opts.latency,
        trace: opts.trace !== false,
      };
      const result = runSimDemo(options);
      io.out(formatSimDemo(result, options) + "\n");
      if (opts.trace !== false) {
        writeFileSync(opts.trace, toChromeTraceJson(result.tracer, { command: "irqlab sim", seed: opts.seed }));
        io.out(`  trace: ${opts.trace} (${result.tracer.events().length} events; open in Perfetto UI or speedscope)\n`);
      }
    });
  program.addCommand(sim, { isDefault: true });
  return program;
}

/** Runs the CLI with `argv` (without node and script). Returns the exit code. */
export function runCli(argv: readonly string[], io: CliIo): number {
  const program = buildProgram(io);
  try {
    program.parse([...argv], { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return 2; // commander has already printed its one-line message
    }
    io.err(`irqlab: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
