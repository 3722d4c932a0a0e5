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
 */
import { microBenchImage } from "@irqlab/guest";
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import { bench, describe } from "vitest";

const parsed = parseSystemCommandLine("aarch64", ["-M", "virt", "-accel", "kvm", "-smp", "2", "-nographic"]);
if (parsed.kind !== "run") throw new Error(`command line: ${parsed.kind}`);
const config = parsed.config;

/** Boots micro-bench with only `tests`, `times` iterations each; returns the console text. */
function runOnce(tests: readonly string[], times: number): string {
  let out = "";
  const m = Machine.create({ config, kernel: microBenchImage({ tests, times }), console: (s) => (out += s) });
  const end = m.run(600_000_000_000);
  if (end !== "shutdown") throw new Error(`micro-bench ended '${end}'`);
  return out.replaceAll("\r\n", "\n");
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
    const { row, avg } = guestRow(runOnce([name], times), name);
    bench(`micro-bench ${name} [x${times}]`, () => void runOnce([name], times), {
      meta: { virtualNsPerOp: avg, guestRow: row },
    } as object);
  }
});
