/**
 * Minor page faults: how many a child process took, and what one costs on
 * this machine. A fault on fresh anonymous memory is where a short process
 * meets the machine under it: on a bare-metal host it costs a fraction of a
 * microsecond, in a virtual machine whose host populates the guest's memory
 * on demand it can cost fifty times that, and a process that starts Node,
 * loads a command and builds a machine takes thousands.
 */
import { readFileSync } from "node:fs";

/**
 * The minor faults of this process's waited-for children so far: `cminflt`,
 * field 11 of /proc/self/stat (proc(5)); undefined where there is no /proc.
 */
export function childMinorFaults(): number | undefined {
  let stat: string;
  try {
    stat = readFileSync("/proc/self/stat", "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: fields 3 on follow its ") ".
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  const cminflt = Number(fields[11 - 3]);
  return Number.isInteger(cminflt) ? cminflt : undefined;
}

/** The minor faults `run` made its children take (it waits for them), or undefined where they cannot be read. */
export function childFaultsOf(run: () => void): number | undefined {
  const before = childMinorFaults();
  run();
  const after = childMinorFaults();
  return before === undefined || after === undefined ? undefined : after - before;
}

/**
 * Wall ns of one minor fault on fresh anonymous memory: the median, over
 * `rounds`, of touching one byte in every page of a new `bytes`-byte buffer
 * (large enough that the allocator maps it fresh) over the faults that took.
 */
export function minorFaultNs(bytes = 16 << 20, rounds = 5): number {
  const PAGE = 4096;
  const perFault: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const f0 = process.resourceUsage().minorPageFault;
    const t0 = process.hrtime.bigint();
    const b = new Uint8Array(bytes);
    for (let i = 0; i < bytes; i += PAGE) b[i] = 1;
    const ns = Number(process.hrtime.bigint() - t0);
    const faults = process.resourceUsage().minorPageFault - f0;
    if (faults > 0) perFault.push(ns / faults);
  }
  perFault.sort((a, b) => a - b);
  return perFault.length === 0 ? 0 : perFault[perFault.length >> 1]!;
}
