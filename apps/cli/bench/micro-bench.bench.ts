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
 * starting to, over N (the median of nine runs after three warm-up runs). That span is the test's
 * prep (for lpi the ITS set-up, a few dozen commands) and its timed loop,
 * CNTVCT_EL0 read to read: what the guest's own "total ns" covers in virtual
 * time. The image runs the loop of a one-operation test (hyp_call,
 * mmio_read_user, mmio_read_vgic, eoi) as one `op.repeat` and the waits of
 * ipi and lpi as `op.pollWhile`; `meta.wallNsPerOpExclBootLoopOfYields` is
 * the same figure with every repeat and poll as its loop of yields
 * (`loopFormImage`), measured in the same run after checking that both forms
 * print the same row, and `meta.fastToLoopRatio` the ratio of the two.
 */
import { loopFormImage, microBenchImage } from "@irqlab/guest";
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
function runOnce(tests: readonly string[], times: number, timed = false, loop = false): { out: string; spanNs: number } {
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
  const image = microBenchImage({ tests, times });
  const m = Machine.create({ config, kernel: loop ? loopFormImage(image) : image, console });
  const end = m.run(600_000_000_000);
  if (end !== "shutdown") throw new Error(`micro-bench ended '${end}'`);
  return { out: out.replaceAll("\r\n", "\n"), spanNs };
}

/**
 * The wall ns per operation, boot excluded, of the fast form and of the loop
 * form (`loopFormImage`): after `warmUps` runs of each (the first runs of a
 * process measure the JIT compiling the model), the median of `runs` runs of
 * each, the two forms alternating.
 */
function wallNsPerOpExclBoot(name: string, times: number, runs = 9, warmUps = 3): { fast: number; loop: number } {
  const fast: number[] = [];
  const loop: number[] = [];
  for (let i = 0; i < warmUps; i++) {
    runOnce([name], times, true, false);
    runOnce([name], times, true, true);
  }
  for (let i = 0; i < runs; i++) {
    fast.push(runOnce([name], times, true, false).spanNs);
    loop.push(runOnce([name], times, true, true).spanNs);
  }
  const median = (xs: number[]): number => Math.round((xs.sort((a, b) => a - b)[runs >> 1]! / times) * 10) / 10;
  return { fast: median(fast), loop: median(loop) };
}

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
    // The same guest with its repeats and polls as loops of yields (the generator form), measured in the same run.
    const loopRow = guestRow(runOnce([name], times, false, true).out, name).row;
    if (loopRow !== row) throw new Error(`micro-bench ${name}: the loop of yields measured ${loopRow}, the repeat/poll form ${row}`);
    const { fast: exclBoot, loop } = wallNsPerOpExclBoot(name, times);
    bench(`micro-bench ${name} [x${times}]`, () => void runOnce([name], times), {
      meta: { virtualNsPerOp: avg, guestRow: row, wallNsPerOpExclBoot: exclBoot, wallNsPerOpExclBootLoopOfYields: loop, fastToLoopRatio: Math.round((exclBoot / loop) * 100) / 100 },
    } as object);
  }
});
