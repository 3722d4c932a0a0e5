/**
 * irqlab's own options, parsed in QEMU's style (QEMU treats "--opt" as
 * "-opt", so they are spelled either way):
 *
 * - `--until DURATION`: stop after this much virtual time: an integer or
 *   decimal with a unit, ns, us, ms or s ("10ms", "2s", "500us", "1000ns",
 *   "1.5ms"), a whole number of nanoseconds;
 * - `--trace FILE`: write the run's trace to FILE (this takes the place of
 *   QEMU's own -trace, which selects trace events);
 * - `--seed N`: the seed of irqlab's random streams, parsed as QEMU's
 *   -seed (util/guest-random.c qemu_guest_random_seed_main: parse_uint_full,
 *   base 0, "Invalid seed number: %s"), up to 2^53 - 1;
 * - `--host [harts=]N,guest-files=G,kernel=linux-6.18|linux-6.19`: the
 *   host, as a QemuOpts group (implied "harts", merged when repeated).
 */

import type { HostConfig } from "../config/machine-config.js";
import { QapiError } from "./qemu-error.js";
import { parseUintFull } from "./cutils.js";
import type { QemuOptsList, QemuOptsListDef } from "./qemu-opts.js";

/** irqlab's options for one run (not part of the machine). */
export interface RunOptions {
  /** `--until`: the virtual-time limit in nanoseconds; undefined runs until the guest stops. */
  readonly untilNs?: number;
  /** `--trace FILE`. */
  readonly trace?: string;
  /** `--seed N` (default 0). */
  readonly seed: number;
}

/** The host without --host: 4 harts (the kvm package's Host default), 7 guest files (VIRT_IRQCHIP_MAX_GUESTS), Linux 6.19. */
export const DEFAULT_HOST: HostConfig = { harts: 4, guestFiles: 7, kernel: "linux-6.19" };

/** --host's option list. */
export const HOST_OPTS: QemuOptsListDef = {
  name: "host",
  impliedOptName: "harts",
  mergeLists: true,
  desc: [
    { name: "harts", type: "num", help: "Number of host CPUs (harts / PEs), 1..4096" },
    { name: "guest-files", type: "num", help: "RISC-V guest interrupt files per hart (GEILEN), 0..63" },
    { name: "kernel", type: "str", help: "Host Linux behaviour: linux-6.18 or linux-6.19" },
  ],
};

const UNIT_NS: Readonly<Record<string, bigint>> = { ns: 1n, us: 1000n, ms: 1_000_000n, s: 1_000_000_000n };

/** --until DURATION (or another irqlab option's duration, named `param` in messages): whole nanoseconds. */
export function parseDuration(arg: string, param = "until"): number {
  const m = /^([0-9]+)(?:\.([0-9]+))?(ns|us|ms|s)$/.exec(arg);
  const bad = (): QapiError =>
    new QapiError(`Parameter '${param}' expects a duration`, "A duration is a number and a unit: ns, us, ms or s (e.g. 10ms, 2s, 500us, 1000ns).\n");
  if (m === null) throw bad();
  const unit = UNIT_NS[m[3]!]!;
  const frac = m[2] ?? "";
  const scale = 10n ** BigInt(frac.length);
  const total = BigInt(m[1]!) * unit * scale + BigInt(frac === "" ? "0" : frac) * unit;
  if (total % scale !== 0n) throw new QapiError(`Parameter '${param}' must be a whole number of nanoseconds, not ${arg}`);
  const ns = total / scale;
  if (ns > BigInt(Number.MAX_SAFE_INTEGER)) throw new QapiError(`Parameter '${param}' is too large: ${arg}`);
  return Number(ns);
}

/** --seed N, as QEMU parses -seed. */
export function parseSeed(arg: string): number {
  const r = parseUintFull(arg, 0);
  if (r.ret !== 0) throw new QapiError(`Invalid seed number: ${arg}`);
  if (r.value > BigInt(Number.MAX_SAFE_INTEGER)) throw new QapiError(`irqlab seeds are at most 2^53 - 1, not ${arg}`);
  return Number(r.value);
}

/** The host from the --host group (defaults for what is not given). */
export function resolveHost(list: QemuOptsList): HostConfig {
  const opts = list.groups[0];
  const num = (name: string, min: bigint, max: bigint, dflt: number): number => {
    const v = opts?.value(name);
    if (typeof v !== "bigint") return dflt;
    if (v < min || v > max) {
      throw new QapiError(`Parameter '${name}' expects a number between ${min.toString()} and ${max.toString()}`);
    }
    return Number(v);
  };
  const harts = num("harts", 1n, 4096n, DEFAULT_HOST.harts);
  const guestFiles = num("guest-files", 0n, 63n, DEFAULT_HOST.guestFiles);
  const kernel = opts?.get("kernel") ?? DEFAULT_HOST.kernel;
  if (kernel !== "linux-6.18" && kernel !== "linux-6.19") {
    throw new QapiError(`Parameter 'kernel' does not accept value '${kernel}'`, "Valid values are linux-6.18 and linux-6.19.\n");
  }
  return { harts, guestFiles, kernel };
}
