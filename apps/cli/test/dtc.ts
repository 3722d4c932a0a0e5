/**
 * Test helper: the device tree compiler (dtc, Debian package
 * device-tree-compiler), to check that a dumped blob is a DTB dtc accepts.
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

/** The dtc path; without one, throws in CI and calls `skip(reason)` elsewhere. */
export function requireDtc(skip: (note: string) => never, env: NodeJS.ProcessEnv = process.env): string {
  const path = env.IRQLAB_DTC ?? "dtc";
  const r = spawnSync(path, ["--version"], { encoding: "utf8" });
  if (r.error === undefined && r.status === 0) return path;
  const missing = `dtc not found (ran '${path} --version'); install device-tree-compiler to check dumped device trees`;
  if (isCi(env)) throw new Error(`${missing} (CI is set, so this is a failure, not a skip)`);
  return skip(missing);
}

/** `dtc -I dtb -O dts FILE`: the status, the source and what dtc printed on stderr. */
export function dtbFileToDts(dtc: string, file: string): { status: number | null; dts: string; stderr: string } {
  const r = spawnSync(dtc, ["-I", "dtb", "-O", "dts", file], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, dts: r.stdout, stderr: r.stderr };
}
