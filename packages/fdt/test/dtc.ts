/**
 * Test helper: runs the device tree compiler (dtc, Debian/Ubuntu package
 * device-tree-compiler) to cross-check this package against the reference
 * implementation.
 *
 * A test that needs dtc calls `requireDtc(skip)`. Without dtc it FAILS when
 * the CI environment variable is set (CI installs device-tree-compiler, so a
 * missing dtc there is a broken pipeline, not a reason to pass quietly) and
 * skips with the reason otherwise. IRQLAB_DTC may name another dtc binary,
 * e.g. a newer release built from source, to compare against its output.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A dtc binary that answered `--version`. */
export interface Dtc {
  readonly path: string;
  /** "1.6.1", "1.8.1", ... */
  readonly version: string;
  /** The toDts option matching this dtc's string list output (split since 1.7.1). */
  readonly stringLists: "split" | "joined";
}

/** What one dtc run printed. */
export interface DtcRun {
  readonly status: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
  /** Names of the checks that warned, in order ("unit_address_vs_reg", ...). */
  readonly warnings: string[];
  /** True if dtc reported any ERROR. */
  readonly errors: boolean;
}

/** True if `env.CI` says this is a CI run (set, and not "", "0" or "false"). */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

/** The dtc to use, or why there is none. */
export function findDtc(env: NodeJS.ProcessEnv = process.env): Dtc | { missing: string } {
  const path = env.IRQLAB_DTC ?? "dtc";
  const r = spawnSync(path, ["--version"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    return { missing: `dtc not found (ran '${path} --version'); install device-tree-compiler to run this test` };
  }
  const m = /DTC\s+(\d+)\.(\d+)\.(\d+)/.exec(r.stdout);
  if (m === null) return { missing: `'${path} --version' printed no version: ${JSON.stringify(r.stdout)}` };
  const [maj, min, pat] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const splits = maj > 1 || (maj === 1 && (min > 7 || (min === 7 && pat >= 1)));
  return { path, version: `${maj}.${min}.${pat}`, stringLists: splits ? "split" : "joined" };
}

/**
 * The dtc to use; without one, throws in CI and calls `skip(reason)` elsewhere.
 * Pass vitest's `(note) => ctx.skip(note)`.
 */
export function requireDtc(skip: (note: string) => never, env: NodeJS.ProcessEnv = process.env): Dtc {
  const found = findDtc(env);
  if ("path" in found) return found;
  if (isCi(env)) throw new Error(`${found.missing} (CI is set, so this is a failure, not a skip)`);
  return skip(found.missing);
}

/** Runs dtc with `args`, the last of which is usually "-" for stdin. */
export function runDtc(dtc: Dtc, args: readonly string[], input: Uint8Array | string): DtcRun {
  const r = spawnSync(dtc.path, args, { input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw r.error;
  const stderr = r.stderr.toString("utf8");
  return {
    status: r.status,
    stdout: r.stdout,
    stderr,
    warnings: [...stderr.matchAll(/Warning \(([a-z0-9_]+)\)/g)].map((m) => m[1]!),
    errors: stderr.includes("ERROR"),
  };
}

/**
 * `dtc -I dtb -O dts` of a blob. The blob goes through a temporary file, not
 * stdin: dtc stops reading at totalsize, and a longer buffer (QEMU's dumps)
 * would make the pipe fail with EPIPE.
 */
export function dtbToDts(dtc: Dtc, blob: Uint8Array): DtcRun {
  const dir = mkdtempSync(join(tmpdir(), "irqlab-fdt-dtc-"));
  try {
    const file = join(dir, "in.dtb");
    writeFileSync(file, blob);
    return runDtc(dtc, ["-I", "dtb", "-O", "dts", file], "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `dtc -I dts -O dtb [extra] -` of source text; throws with dtc's stderr if it fails. */
export function dtsToDtb(dtc: Dtc, source: string, extra: readonly string[] = []): Uint8Array {
  const r = runDtc(dtc, ["-I", "dts", "-O", "dtb", ...extra, "-"], source);
  if (r.status !== 0) throw new Error(`dtc failed on test source: ${r.stderr}`);
  return new Uint8Array(r.stdout);
}
