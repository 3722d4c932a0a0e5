/**
 * Test helper: the device tree compiler (dtc, Debian package
 * device-tree-compiler), to compile QEMU's trees from their DTS text. A test
 * that needs it calls `requireDtc(skip)`: without dtc it FAILS when the CI
 * environment variable is set (CI installs dtc) and skips with the reason
 * otherwise. IRQLAB_DTC may name another binary. (The same contract as
 * packages/fdt/test/dtc.ts.)
 */

import { spawnSync } from "node:child_process";

/** A dtc that answered `--version`. */
export interface Dtc {
  readonly path: string;
  readonly version: string;
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
  const m = /DTC\s+(\d+\.\d+\.\d+)/.exec(r.stdout);
  return m === null ? { missing: `'${path} --version' printed no version` } : { path, version: m[1]! };
}

/** The dtc to use; without one, throws in CI and calls `skip(reason)` elsewhere. */
export function requireDtc(skip: (note: string) => never, env: NodeJS.ProcessEnv = process.env): Dtc {
  const found = findDtc(env);
  if ("path" in found) return found;
  if (isCi(env)) throw new Error(`${found.missing} (CI is set, so this is a failure, not a skip)`);
  return skip(found.missing);
}

/** `dtc -I dts -O dtb -q -` of DTS text; throws with dtc's stderr if it fails. */
export function dtsToDtb(dtc: Dtc, source: string): Uint8Array {
  const r = spawnSync(dtc.path, ["-q", "-I", "dts", "-O", "dtb", "-"], { input: source, maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw r.error;
  if (r.status !== 0) throw new Error(`dtc failed: ${r.stderr.toString("utf8")}`);
  return new Uint8Array(r.stdout);
}
