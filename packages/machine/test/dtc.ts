/**
 * Test helper: the device tree compiler (dtc, Debian package
 * device-tree-compiler), used to check that our blobs are valid DTBs and to
 * compile QEMU's DTS fixtures back into blobs.
 *
 * A test that needs dtc calls `requireDtc(ctx.skip)`. Without dtc it FAILS when
 * the CI environment variable is set (a CI image without dtc is a broken
 * pipeline, not a reason to pass quietly) and skips with the reason otherwise.
 * IRQLAB_DTC may name another dtc binary.
 */

import { spawnSync } from "node:child_process";

/** True if `env.CI` says this is a CI run (set, and not "", "0" or "false"). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

/** The dtc binary to run, or why there is none. */
export function findDtc(env: NodeJS.ProcessEnv = process.env): { path: string } | { missing: string } {
  const path = env.IRQLAB_DTC ?? "dtc";
  const r = spawnSync(path, ["--version"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) {
    return { missing: `dtc not found (ran '${path} --version'); install device-tree-compiler to run the QEMU comparison` };
  }
  return { path };
}

/** The dtc path; without one, throws in CI and calls `skip(reason)` elsewhere. */
export function requireDtc(skip: (note: string) => never, env: NodeJS.ProcessEnv = process.env): string {
  const found = findDtc(env);
  if ("path" in found) return found.path;
  if (isCi(env)) throw new Error(`${found.missing} (CI is set, so this is a failure, not a skip)`);
  return skip(found.missing);
}

/** `dtc -I dtb -O dts` of a blob: the status and what dtc printed. */
export function dtbToDts(dtc: string, blob: Uint8Array): { status: number | null; dts: string; stderr: string } {
  const r = spawnSync(dtc, ["-I", "dtb", "-O", "dts", "-"], { input: blob, maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, dts: r.stdout.toString("utf8"), stderr: r.stderr.toString("utf8") };
}

/** `dtc -I dts -O dtb` of DTS text; throws with dtc's stderr if it fails. */
export function dtsToDtb(dtc: string, source: string): Uint8Array {
  const r = spawnSync(dtc, ["-q", "-I", "dts", "-O", "dtb", "-"], { input: source, maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`dtc failed on the fixture: ${r.stderr.toString("utf8")}`);
  return new Uint8Array(r.stdout);
}
