/**
 * `irqlab scenario`: the seed threads (and user scenario files) as runs.
 *
 * - `irqlab scenario list`: the registered scenarios, their remedies and sizes;
 * - `irqlab scenario run <seed|name|FILE> [--remedy R]... [--compare] [--json]
 *   [--trace FILE] [--seed N] [--size K=V]... [--loop-form]`, or `--all`
 *   instead of a target: runs the remedies on the same inputs and prints each
 *   remedy's values, the side-by-side table (--compare) or JSON (--json, the
 *   schema in packages/scenarios/README.md); --loop-form boots the guests
 *   with every repeat, sequence, poll and call as its loop of yields, the
 *   reference form (the same rows, only slower);
 * - `irqlab scenario explain <seed|name|FILE>`: what the thread argued, the
 *   command lines, the remedies and what every column means.
 *
 * A target is a file when it ends in .yaml, .yml or .json or contains a
 * slash. A bad scenario, remedy, size or file prints one line and exits 2.
 */

import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import {
  ScenarioError,
  findScenario,
  renderCompare,
  renderRow,
  reportsToChromeTraceJson,
  reportsToJsonText,
  runScenario,
  scenarios,
  userScenario,
  type Scenario,
  type ScenarioReport,
} from "@irqlab/scenarios";
import { loadUserScenarioFile } from "@irqlab/scenarios/node";
import { Command, InvalidArgumentError, Option } from "commander";
import { parseSeed } from "../parse.js";
import { checkWritable } from "../system/trace-file.js";
import { traceInputs } from "../trace-inputs.js";

/** Where the command writes. */
export interface ScenarioIo {
  out(text: string): void;
  err(text: string): void;
  /** Relative file paths are resolved against it (default process.cwd()). */
  readonly cwd?: string;
}

interface RunOpts {
  remedy?: string[];
  compare?: boolean;
  json?: boolean;
  trace?: string;
  seed: number;
  size?: Record<string, number>;
  all?: boolean;
  loopForm?: boolean;
}

function isFile(target: string): boolean {
  return /\.(ya?ml|json)$/i.test(target) || target.includes("/");
}

/** The scenario a target names: a registered name or seed number, or a scenario file. */
export function resolveTarget(target: string, cwd: string): Scenario {
  if (isFile(target)) return userScenario(loadUserScenarioFile(resolve(cwd, target), target));
  const s = findScenario(target);
  if (s === undefined) {
    const known = scenarios.map((x) => (x.seed === undefined ? x.name : `${x.seed} (${x.name})`)).join(", ");
    throw new ScenarioError("unknown-scenario", `no scenario '${target}' (scenarios: ${known}; or a .yaml/.json scenario file)`);
  }
  return s;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function sizeArg(value: string, previous: Record<string, number> | undefined): Record<string, number> {
  const m = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(value);
  if (m === null) throw new InvalidArgumentError("expected NAME=N, e.g. harts=4.");
  return { ...(previous ?? {}), [m[1]!]: Number(m[2]) };
}

/** `irqlab scenario list` text. */
export function listText(): string {
  const w = Math.max(...scenarios.map((s) => s.name.length));
  let out = "";
  for (const s of scenarios) {
    out += `${s.seed ?? "   "}  ${s.name.padEnd(w)}  ${s.title}\n`;
    out += `     ${" ".repeat(w)}  remedies: ${s.remedies.map((r) => r.name).join(", ")}\n`;
    const sizes = Object.entries(s.sizes ?? {});
    if (sizes.length > 0) out += `     ${" ".repeat(w)}  sizes: ${sizes.map(([k, v]) => `${k}=${v}`).join(" ")}\n`;
  }
  return out;
}

/** `irqlab scenario explain` text. */
export function explainText(s: Scenario): string {
  let out = `${s.seed === undefined ? "" : `seed ${s.seed}: `}${s.title} [${s.name}]\n\n${s.explain.trimEnd()}\n\nRemedies (--remedy NAME):\n`;
  for (const r of s.remedies) out += `  ${r.name}: ${r.title}\n${r.description === "" ? "" : `      ${r.description}\n`}`;
  out += "\nColumns:\n";
  for (const c of s.columns) out += `  ${c.title}${c.unit === undefined ? "" : ` (${c.unit})`}: ${c.description}\n`;
  const sizes = Object.entries(s.sizes ?? {});
  if (sizes.length > 0) out += `\nSizes (--size NAME=N): ${sizes.map(([k, v]) => `${k}=${v}`).join(" ")}\n`;
  return out;
}

/** The wall time each remedy took (measured here, never part of a report's rows or JSON, which stay deterministic). */
export function wallTimeLine(r: ScenarioReport): string {
  const ms = r.wallMs ?? [];
  if (ms.length === 0) return "";
  const each = r.rows.map((row, i) => `${row.remedy} ${formatWall(ms[i] ?? 0)}`).join(", ");
  return `wall time (${r.scenario.name}${r.loopForm === true ? ", guests in their loop form" : ""}): ${each}\n`;
}

function formatWall(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms >= 10 ? 0 : 1)} ms`;
}

const EXPLORE_HINT = [
  "Explore further (in this repository, irqlab is node apps/cli/dist/irqlab.cjs):",
  "  irqlab scenario list                              the scenarios, remedies and sizes",
  "  irqlab scenario explain 000                       what the thread argued and what each column means",
  "  irqlab scenario run 000 --remedy auto --size harts=4",
  "  irqlab scenario run 003 --json                    the same tables as JSON",
  "  irqlab scenario run packages/scenarios/examples/two-vms-vsfile.yaml --compare",
  "",
].join("\n");

/**
 * The `scenario` command; `status.code` receives the exit code of a failure.
 * `argv` is the command line after `irqlab`, recorded in the trace files it writes.
 */
export function scenarioCommand(io: ScenarioIo, status: { code: number }, configure: (c: Command) => Command, argv: readonly string[] = []): Command {
  const cwd = io.cwd ?? process.cwd();
  const guard = (fn: () => void): void => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      io.err(`irqlab scenario: ${e.message}\n`);
      status.code = 2;
    }
  };
  const cmd = configure(new Command("scenario").description("run the seed threads' scenarios and user scenario files, every remedy side by side"));

  cmd.addCommand(
    configure(new Command("list").description("list the scenarios with their remedies and sizes")).action(() => {
      io.out(listText());
    }),
  );

  cmd.addCommand(
    configure(new Command("explain").description("what a scenario shows, its command lines, remedies and columns"))
      .argument("<scenario>", "seed number, name or scenario file")
      .action((target: string) => {
        guard(() => {
          io.out(explainText(resolveTarget(target, cwd)));
        });
      }),
  );

  cmd.addCommand(
    configure(new Command("run").description("run a scenario's remedies on the same inputs"))
      .argument("[scenario]", "seed number (000), name (vsfile-exhaustion) or scenario file (./file.yaml)")
      .option("--remedy <name>", "run only this remedy (repeatable)", collect)
      .option("--compare", "print the remedies side by side")
      .option("--json", "print JSON (schema: packages/scenarios/README.md)")
      .option("--trace <file>", "write a Chrome Trace Event file, one group of tracks per remedy")
      .addOption(new Option("--seed <n>", "seed of the random streams").argParser(parseSeed).default(0))
      .option("--size <name=n>", "a scenario size (repeatable), e.g. harts=4", sizeArg)
      .option("--all", "run every registered scenario")
      .option("--loop-form", "boot the guests with each repeat, sequence, poll and call as its loop of yields (the same rows, slower)")
      .action((target: string | undefined, opts: RunOpts) => {
        guard(() => {
          if ((target === undefined) === (opts.all !== true)) {
            throw new ScenarioError("unknown-scenario", opts.all === true ? "give a scenario or --all, not both" : "which scenario? give a seed number, a name, a file, or --all");
          }
          if (opts.all === true && opts.size !== undefined) throw new ScenarioError("bad-size", "--size applies to one scenario, not to --all");
          const list = opts.all === true ? [...scenarios] : [resolveTarget(target!, cwd)];
          // The trace path is checked before anything runs: a long run is never lost to a typo.
          const traceWhy = opts.trace === undefined ? undefined : checkWritable(resolve(cwd, opts.trace));
          if (traceWhy !== undefined) throw new ScenarioError("bad-file", `cannot write the trace file '${opts.trace!}': ${traceWhy}`);
          const reports: ScenarioReport[] = list.map((s) =>
            runScenario(s, {
              ...(opts.all === true ? {} : { remedies: opts.remedy }),
              seed: opts.seed,
              ...(opts.size === undefined ? {} : { sizes: opts.size }),
              trace: opts.trace !== undefined,
              ...(opts.loopForm === true ? { loopForm: true } : {}),
              clock: () => performance.now(),
            }),
          );
          if (opts.all === true && opts.remedy !== undefined) io.err("irqlab scenario: --remedy is ignored with --all\n");
          const info = (text: string): void => {
            if (opts.json === true) io.err(text);
            else io.out(text);
          };
          if (opts.json === true) {
            io.out(reportsToJsonText(reports));
            for (const r of reports) io.err(wallTimeLine(r));
          } else {
            io.out(
              reports
                .map((r) => `${opts.compare === true ? renderCompare(r) : r.rows.map((row) => renderRow(r, row.remedy)).join("\n")}${wallTimeLine(r)}`)
                .join("\n"),
            );
          }
          if (opts.trace !== undefined) {
            const file = resolve(cwd, opts.trace);
            const inputs = { seed: opts.seed, ...(opts.size === undefined ? {} : { sizes: opts.size }), ...(opts.remedy === undefined ? {} : { remedies: opts.remedy }), all: opts.all === true };
            const text = reportsToChromeTraceJson(reports, traceInputs(argv, inputs));
            writeFileSync(file, text);
            info(`\ntrace: ${opts.trace} (${reports.reduce((n, r) => n + r.traces.size, 0)} runs; open it in https://ui.perfetto.dev or chrome://tracing)\n`);
          }
          if (opts.all === true && opts.json !== true) info(`\n${EXPLORE_HINT}`);
        });
      }),
  );
  return cmd;
}
