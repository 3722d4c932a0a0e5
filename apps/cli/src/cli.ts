/**
 * The `irqlab` command line. `runCli` is pure apart from the injected I/O so
 * tests can drive it; irqlab-command.ts binds it to the process. Unknown options and bad
 * values print one line naming the culprit and return exit code 2, never a
 * stack trace.
 *
 * `irqlab system-aarch64 …` and `irqlab system-riscv64 …` are the
 * irqlab-system-* commands: commander does not parse their arguments (no
 * help option, unknown options allowed, options passed through), they go
 * as written to runSystem, which parses them as QEMU does.
 */
import { writeFileSync } from "node:fs";
import { toChromeTraceJson, type Tracer } from "@irqlab/sim";
import { Command, CommanderError, Option } from "commander";
import { runArmDemo } from "./demo/arm-demo.js";
import { scenarioCommand } from "./scenario/scenario-command.js";
import { runRiscvDemo } from "./demo/riscv-demo.js";
import { parseDuration, parseSeed } from "./parse.js";
import { formatSimDemo, runSimDemo } from "./sim-demo/run-sim-demo.js";
import { runSystem, type SystemIo } from "./system/run-system.js";
import { checkWritable } from "./system/trace-file.js";
import { traceInputs } from "./trace-inputs.js";
import { unknownCommandMessage } from "./unknown-command.js";
import { VERSION } from "./version.js";

/**
 * The most device interrupts one `irqlab sim` run may raise (--duration over
 * --period): about ten seconds of wall time on a laptop-class core.
 */
export const SIM_MAX_INTERRUPTS = 10_000_000;

/** Where the CLI writes (and, for the system commands, what tests may replace: see SystemIo). */
export type CliIo = Omit<SystemIo, "prog">;

/** The QEMU-style commands, by subcommand name. */
const SYSTEM_COMMANDS = { "system-aarch64": "aarch64", "system-riscv64": "riscv64" } as const;

interface DemoOpts {
  arch: "arm64" | "riscv64" | "both";
  aia: "auto" | "hwaccel" | "emul";
  seed: number;
  trace: string | false;
}

interface SimOpts {
  seed: number;
  duration: number;
  period: number;
  latency: number;
  trace: string | false;
}

/** Bad input found by an action before it runs anything: one line, exit 2. */
class UsageError extends Error {}

/** A trace path must be writable before a run starts, so a long run is never lost to a typo. */
function mustBeWritable(file: string): void {
  const why = checkWritable(file);
  if (why !== undefined) throw new UsageError(`cannot write the trace file '${file}': ${why}`);
}

/** Nanoseconds as the duration options take them (the largest exact unit). */
function formatNs(ns: number): string {
  for (const [unit, scale] of [["s", 1e9], ["ms", 1e6], ["us", 1e3]] as const) if (ns % scale === 0) return `${ns / scale}${unit}`;
  return `${ns}ns`;
}

function buildProgram(io: CliIo, argv: readonly string[], status: { code: number }): Command {
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
    .showSuggestionAfterError(true)
    // Options after a subcommand's name are the subcommand's: the system commands get theirs untouched.
    .enablePositionalOptions();

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
      const interrupts = Math.floor(opts.duration / opts.period);
      if (interrupts > SIM_MAX_INTERRUPTS) {
        throw new UsageError(
          `--duration ${formatNs(opts.duration)} at --period ${formatNs(opts.period)} is ${interrupts} device interrupts; a run may raise at most ${SIM_MAX_INTERRUPTS} (lengthen --period or shorten --duration)`,
        );
      }
      if (opts.trace !== false) mustBeWritable(opts.trace);
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
        const inputs = { seed: opts.seed, duration: opts.duration, period: opts.period, latency: opts.latency };
        writeFileSync(opts.trace, toChromeTraceJson(result.tracer, traceInputs(argv, inputs)));
        io.out(`  trace: ${opts.trace} (${result.tracer.events().length} events; open in Perfetto UI or speedscope)\n`);
      }
    });
  program.addCommand(sim, { isDefault: true });

  const demo = new Command("demo")
    .description("a device interrupt end to end, device → eventfd/irqfd or APLIC → vgic or IMSIC → vCPU, on both architectures")
    .addOption(new Option("--arch <arch>", "which architecture to run").choices(["arm64", "riscv64", "both"]).default("both"))
    .addOption(new Option("--aia <mode>", "RISC-V AIA mode (riscv-aia= of QEMU's -accel kvm)").choices(["auto", "hwaccel", "emul"]).default("auto"))
    .addOption(new Option("--seed <n>", "seed of the device timing").argParser(parseSeed).default(1))
    .option("--trace <file>", "write a Chrome Trace Event JSON file per architecture (<file> gets -arm64/-riscv64)", "irqlab-demo.json")
    .option("--no-trace", "do not write traces")
    .exitOverride()
    .configureOutput(output)
    .action((opts: DemoOpts) => {
      const traced = opts.trace !== false;
      const traceFile = (arch: string): string => (opts.trace === false ? "" : opts.trace.replace(/(\.json)?$/, `-${arch}.json`));
      if (traced) for (const arch of ["arm64", "riscv64"]) if (opts.arch === "both" || opts.arch === arch) mustBeWritable(traceFile(arch));
      const runs: [string, () => { summary: string; tracer: Tracer }][] = [
        ["arm64", () => runArmDemo({ seed: opts.seed, trace: traced })],
        ["riscv64", () => runRiscvDemo({ seed: opts.seed, trace: traced, mode: opts.aia })],
      ];
      for (const [arch, run] of runs) {
        if (opts.arch !== "both" && opts.arch !== arch) continue;
        const r = run();
        io.out(r.summary.trimEnd() + "\n");
        if (opts.trace !== false) {
          const file = traceFile(arch);
          writeFileSync(file, toChromeTraceJson(r.tracer, traceInputs(argv, { arch, aia: opts.aia, seed: opts.seed })));
          io.out(`  trace: ${file} (${r.tracer.events().length} events)\n`);
        }
      }
    });
  program.addCommand(demo);

  program.addCommand(scenarioCommand(io, status, (c) => c.exitOverride().configureOutput(output), argv));

  for (const [name, arch] of Object.entries(SYSTEM_COMMANDS)) {
    const system = new Command(name)
      .description(`irqlab-system-${arch}: qemu-system-${arch}'s command line on irqlab's virt machine (${name} -h)`)
      .usage("[qemu options]")
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .passThroughOptions()
      .argument("[qemu-options...]")
      .exitOverride()
      .configureOutput(output)
      .action(async () => {
        // The arguments after the subcommand's name, exactly as given (commander would drop a "--").
        const raw = argv.slice(argv.indexOf(name) + 1);
        status.code = await runSystem(arch, raw, { ...io, prog: `irqlab ${name}` });
      });
    program.addCommand(system);
  }
  // The subcommand about to run, as "scenario-run", for io.reached.
  program.hook("preAction", (_program, action) => {
    const names: string[] = [];
    for (let c: Command | null = action; c !== null && c !== program; c = c.parent) names.unshift(c.name());
    io.reached?.(names.join("-"));
  });
  return program;
}

/** Runs the CLI with `argv` (without node and script). Resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const status = { code: 0 };
  const program = buildProgram(io, argv, status);
  const unknown = unknownCommandMessage(argv[0], program.commands.map((c) => c.name()));
  if (unknown !== undefined) {
    io.err(unknown);
    return 2;
  }
  try {
    await program.parseAsync([...argv], { from: "user" });
    return status.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return 2; // commander has already printed its one-line message
    }
    io.err(`irqlab: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
