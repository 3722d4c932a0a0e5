/**
 * kvm-unit-tests' micro-bench on the arm64 machine (`-M virt -accel kvm
 * -smp 2`, the `micro-bench` guest image): for each of its operations, the
 * wall-clock time the model takes per operation next to the virtual time the
 * guest measured for it with CNTVCT_EL0 (its table's "avg ns").
 *
 * One bench call boots a machine, runs one test of the table for N
 * iterations and powers off; the name ends in "[xN]", so the reported
 * wallNsPerOp is the call's time over N, boot included: the "boot and power
 * off" task is that part alone (N is the source's 65536 where a call stays
 * short, so boot is a small share). `meta.virtualNsPerOp` is the guest's
 * average for the operation, `meta.guestRow` its table row.
 *
 * `meta.wallNsPerOpExclBoot` leaves boot and power-off out: the wall time
 * from the guest's table header reaching the console to its row for the test
 * starting to, over N (the median of a few runs). That span is the test's
 * prep (for lpi the ITS set-up, a few dozen commands) and its timed loop,
 * CNTVCT_EL0 read to read: what the guest's own "total ns" covers in virtual
 * time. The one-operation tests (hyp_call, mmio_read_user, mmio_read_vgic,
 * eoi) run their loop as one `op.repeat`, the image's default; for them
 * `meta.wallNsPerOpExclBootLoopOfYields` is the same figure with the loop as
 * yields (`repeat: false`), measured in the same run, and
 * `meta.repeatToLoopRatio` the ratio of the two.
 */
import { microBenchImage } from "@irqlab/guest";
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import { bench, describe } from "vitest";

const parsed = parseSystemCommandLine("aarch64", ["-M", "virt", "-accel", "kvm", "-smp", "2", "-nographic"]);
if (parsed.kind !== "run") throw new Error(`command line: ${parsed.kind}`);
const config = parsed.config;

/** The 92 dashes that end the table header. */
const HEADER_END = `${"-".repeat(92)}\n`;

/**
 * Boots micro-bench with only `tests`, `times` iterations each; returns the
 * console text and the wall nanoseconds between the header's end and the
 * first character after it (the test's row).
 */
function runOnce(tests: readonly string[], times: number, timed = false, repeat = true): { out: string; spanNs: number } {
  let out = "";
  let headerAt = -1;
  let spanNs = 0;
  const console = timed
    ? (s: string): void => {
        if (headerAt < 0) {
          out += s;
          if (out.replaceAll("\r\n", "\n").endsWith(HEADER_END)) headerAt = Number(process.hrtime.bigint());
          return;
        }
        if (spanNs === 0) spanNs = Number(process.hrtime.bigint()) - headerAt;
        out += s;
      }
    : (s: string): void => void (out += s);
  const m = Machine.create({ config, kernel: microBenchImage({ tests, times, repeat }), console });
  const end = m.run(600_000_000_000);
  if (end !== "shutdown") throw new Error(`micro-bench ended '${end}'`);
  return { out: out.replaceAll("\r\n", "\n"), spanNs };
}

/** Median over `runs` runs of the wall ns per operation, boot excluded (`repeat`: MicroBenchOptions.repeat). */
function wallNsPerOpExclBoot(name: string, times: number, runs = 3, repeat = true): number {
  const spans: number[] = [];
  for (let i = 0; i < runs; i++) spans.push(runOnce([name], times, true, repeat).spanNs);
  spans.sort((a, b) => a - b);
  return Math.round((spans[runs >> 1]! / times) * 10) / 10;
}

/** The tests whose timed loop is one operation: the image runs it as an op.repeat unless told not to. */
const ONE_OP_TESTS = new Set(["hyp_call", "mmio_read_user", "mmio_read_vgic", "eoi"]);

/** The guest's row and average for `name` in `out`. */
function guestRow(out: string, name: string): { row: string; avg: number } {
  const row = out.split("\n").find((l) => l.startsWith(`${name} `));
  const m = row === undefined ? null : /^\S+\s+(\d+)\.(\d)\s+(\d+)\.(\d)/.exec(row);
  if (row === undefined || m === null) throw new Error(`no row for ${name} in:\n${out}`);
  return { row: row.trimEnd(), avg: Number(m[3]) };
}

describe("micro-bench on -M virt -accel kvm -smp 2: wall ns per operation, virtual ns the guest measured", () => {
  const cases: [name: string, times: number][] = [
    ["hyp_call", 65536],
    ["mmio_read_user", 65536],
    ["mmio_read_vgic", 65536],
    ["eoi", 65536],
    ["ipi", 4096],
    ["lpi", 4096],
  ];
  bench("boot and power off, no test [x1]", () => void runOnce([], 1));
  for (const [name, times] of cases) {
    const { row, avg } = guestRow(runOnce([name], times).out, name);
    // For a one-operation test, the same loop as yields too (the generator form), measured alternately with the repeat.
    const oneOp = ONE_OP_TESTS.has(name);
    const loopRow = oneOp ? guestRow(runOnce([name], times, false, false).out, name).row : row;
    if (loopRow !== row) throw new Error(`micro-bench ${name}: the loop of yields measured ${loopRow}, the repeat ${row}`);
    const exclBoot = wallNsPerOpExclBoot(name, times);
    const loop = oneOp ? wallNsPerOpExclBoot(name, times, 3, false) : undefined;
    bench(`micro-bench ${name} [x${times}]`, () => void runOnce([name], times), {
      meta: { virtualNsPerOp: avg, guestRow: row, wallNsPerOpExclBoot: exclBoot, ...(loop !== undefined ? { wallNsPerOpExclBootLoopOfYields: loop, repeatToLoopRatio: Math.round((exclBoot / loop) * 100) / 100 } : {}) },
    } as object);
  }
});
