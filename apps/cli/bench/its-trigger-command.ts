/**
 * The its-trigger command as a user runs it, for the benches that time the
 * whole process (its-trigger-process.bench.ts, qemu-tcg.bench.ts):
 * `irqlab-system-aarch64 -M virt -accel kvm -smp 4 -nographic -kernel
 * irqlab:its-trigger`, built from the sources as tsup ships it — the bin (a
 * small CommonJS script) and, beside it, the CommonJS bundle it loads with
 * V8's code cache (src/launch), without comments and whitespace
 * (SHIPPED_COMMAND) — and run in a child process with a code cache the
 * first run wrote, as a user's every run after the first.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { SHIPPED_BIN, SHIPPED_COMMAND, bundleForProcess } from "../../../scripts/source-bundle.mjs";
import { untilCacheable } from "../test/code-cache-settle.js";

/** The command's arguments after the bin. */
export const ITS_TRIGGER_ARGV: readonly string[] = ["-M", "virt", "-accel", "kvm", "-smp", "4", "-nographic", "-kernel", "irqlab:its-trigger"];

/** What its-trigger prints last when every check passed (kvm-unit-tests' gic.c prints the same). */
export const ITS_TRIGGER_PASSED = /SUMMARY: \d+ tests\n\nEXIT: STATUS=1\n$/;

/** The built command: the bin to run with node, and the code cache directory its runs share. */
export interface ShippedItsTrigger {
  readonly cli: string;
  readonly codeCache: string;
}

/**
 * Builds the bin and the bundle it loads into .bench-raw, waits until the
 * bundle may have its code cache written (code-cache.ts) and makes an empty
 * code cache directory `cacheName` beside them: the first run fills it.
 */
export async function shipItsTrigger(cacheName: string): Promise<ShippedItsTrigger> {
  const cli = bundleForProcess("apps/cli/src/system-aarch64.ts", "irqlab-system-aarch64.cjs", { ...SHIPPED_COMMAND, ...SHIPPED_BIN });
  const bundle = bundleForProcess("apps/cli/src/system-main.ts", "irqlab-system.cjs", { ...SHIPPED_COMMAND, format: "cjs" });
  await untilCacheable([bundle]);
  const codeCache = join(dirname(cli), cacheName);
  rmSync(codeCache, { recursive: true, force: true });
  mkdirSync(codeCache, { recursive: true });
  return { cli, codeCache };
}

/**
 * Runs `node <args>` with IRQLAB_CODE_CACHE set to `cache` (a directory, or
 * "off") in `env`; returns its stdout, and throws unless it exits with 0.
 */
export function runNode(args: readonly string[], cache: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(process.execPath, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...env, IRQLAB_CODE_CACHE: cache } });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")}: exit ${r.status}\n${r.stderr}`);
  return r.stdout;
}

/** Runs the command once with `cmd`'s code cache; throws unless its-trigger passed. */
export function runItsTrigger(cmd: ShippedItsTrigger, cache: string = cmd.codeCache, env: NodeJS.ProcessEnv = process.env): void {
  const out = runNode([cmd.cli, ...ITS_TRIGGER_ARGV], cache, env).replaceAll("\r\n", "\n");
  if (!ITS_TRIGGER_PASSED.test(out)) throw new Error(`its-trigger did not pass:\n${out}`);
}
