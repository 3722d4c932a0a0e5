/**
 * One run of the `micro-bench` image on `-M virt -accel kvm -smp 2`, with the
 * wall time of its timed part: shared by micro-bench.bench.ts and the
 * process it measures each form in (micro-bench-span.ts).
 */
import { loopFormImage, microBenchImage } from "@irqlab/guest";
import { Machine, parseSystemCommandLine } from "@irqlab/machine";

const parsed = parseSystemCommandLine("aarch64", ["-M", "virt", "-accel", "kvm", "-smp", "2", "-nographic"]);
if (parsed.kind !== "run") throw new Error(`command line: ${parsed.kind}`);
const config = parsed.config;

/** The 92 dashes that end the table header. */
const HEADER_END = `${"-".repeat(92)}\n`;

/**
 * Boots micro-bench with only `tests`, `times` iterations each (as the loops
 * of yields its repeats and polls stand for when `loop`); returns the console
 * text and, when `timed`, the wall nanoseconds between the header's end and
 * the first character after it (the test's row): the test's prep and its
 * timed loop, what the guest's own "total ns" covers in virtual time.
 */
export function runMicroBench(tests: readonly string[], times: number, timed = false, loop = false): { out: string; spanNs: number } {
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
