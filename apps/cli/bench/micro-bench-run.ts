/**
 * One run of the `micro-bench` image on `-M virt -accel kvm -smp 2`, with the
 * wall time of its timed part and the model's work over it: shared by
 * micro-bench.bench.ts and the process it measures each form in
 * (micro-bench-span.ts).
 */
import { loopFormImage, microBenchImage } from "@irqlab/guest";
import { Machine, parseSystemCommandLine } from "@irqlab/machine";

const parsed = parseSystemCommandLine("aarch64", ["-M", "virt", "-accel", "kvm", "-smp", "2", "-nographic"]);
if (parsed.kind !== "run") throw new Error(`command line: ${parsed.kind}`);
const config = parsed.config;

/** The 92 dashes that end the table header, and its line end as the console writes it or as it may. */
const HEADER_END = `${"-".repeat(92)}\n`;
const HEADER_END_CRLF = `${"-".repeat(92)}\r\n`;

/**
 * What the model did over a span, counted by the machine: events the queue
 * dispatched, KVM_RUN calls, run() calls that went on with a KVM_RUN
 * (VcpuThread.continuations) and exits to the VMM, summed over the vCPUs.
 * Deterministic, as virtual time is: the same in every process and on every
 * machine, where wall time is not.
 */
export interface ModelWork {
  events: number;
  kvmRuns: number;
  continuations: number;
  exits: number;
}

function workOf(m: Machine): ModelWork {
  const w: ModelWork = { events: m.queue.dispatched, kvmRuns: 0, continuations: 0, exits: 0 };
  for (const c of m.cpus) {
    w.kvmRuns += c.thread.runs;
    w.continuations += c.thread.continuations;
    w.exits += c.thread.exits;
  }
  return w;
}

/** `b` − `a`, field by field. */
export function workBetween(a: ModelWork, b: ModelWork): ModelWork {
  return { events: b.events - a.events, kvmRuns: b.kvmRuns - a.kvmRuns, continuations: b.continuations - a.continuations, exits: b.exits - a.exits };
}

/**
 * Boots micro-bench with only `tests`, `times` iterations each (as the loops
 * of yields its repeats and polls stand for when `loop`); returns the console
 * text and, when `timed`, the wall nanoseconds between the header's end and
 * the first character after it (the test's row): the test's prep and its
 * timed loop, what the guest's own "total ns" covers in virtual time. `work`
 * is what the model did over that same span (timed or not).
 */
export function runMicroBench(tests: readonly string[], times: number, timed = false, loop = false): { out: string; spanNs: number; work: ModelWork } {
  let out = "";
  let headerAt = -1;
  let spanNs = 0;
  let workAtHeader: ModelWork | undefined;
  let work: ModelWork | undefined;
  const console = (s: string): void => {
    if (workAtHeader === undefined) {
      out += s;
      // Looked for at line ends only: the console may be written a byte at a time.
      if (s.endsWith("\n") && (out.endsWith(HEADER_END) || out.endsWith(HEADER_END_CRLF))) {
        workAtHeader = workOf(m);
        if (timed) headerAt = Number(process.hrtime.bigint());
      }
      return;
    }
    if (work === undefined) {
      if (timed) spanNs = Number(process.hrtime.bigint()) - headerAt;
      work = workBetween(workAtHeader, workOf(m));
    }
    out += s;
  };
  const image = microBenchImage({ tests, times });
  // Read by the console only once the guest runs: m is set by then.
  const m = Machine.create({ config, kernel: loop ? loopFormImage(image) : image, console });
  const end = m.run(600_000_000_000);
  if (end !== "shutdown") throw new Error(`micro-bench ended '${end}'`);
  return { out: out.replaceAll("\r\n", "\n"), spanNs, work: work ?? { events: 0, kvmRuns: 0, continuations: 0, exits: 0 } };
}

/**
 * The row of test `name` in micro-bench's table in `out` and its "avg ns"
 * in whole nanoseconds (the fraction micro-bench.c's loop_test prints is the
 * total's tenths over the iterations: 0 past nine), as irqlab's guest and
 * kvm-unit-tests' own build under QEMU print it; throws without one.
 */
export function guestRow(out: string, name: string): { row: string; avg: number } {
  const row = out.split("\n").find((l) => l.startsWith(`${name} `));
  const m = row === undefined ? null : /^\S+\s+(\d+)\.(\d)\s+(\d+)\.(\d)/.exec(row);
  if (row === undefined || m === null) throw new Error(`no row for ${name} in:\n${out}`);
  return { row: row.trimEnd(), avg: Number(m[3]) };
}
