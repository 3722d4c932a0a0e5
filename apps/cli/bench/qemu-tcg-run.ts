/**
 * kvm-unit-tests' arm64 tests under QEMU's TCG, run as the suite's own
 * runner (arm/run) runs them there, for the bench that measures irqlab and
 * QEMU in one run (qemu-tcg.bench.ts). Nothing of kvm-unit-tests comes with
 * irqlab: the bench runs a tree the user built for arm64
 * (`./configure --arch=arm64 --cross-prefix=aarch64-linux-gnu- && make`),
 * named by IRQLAB_KVM_UNIT_TESTS, under the QEMU named by QEMU (as the
 * suite's runner takes it) or else `qemu-system-aarch64`.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/** The QEMU binary and the two tests' images the comparison runs. */
export interface QemuTcgSetup {
  readonly qemu: string;
  /** The first line of `qemu --version`. */
  readonly version: string;
  /** arm/micro-bench.flat */
  readonly microBench: string;
  /** arm/gic.flat, whose `its-trigger` argument selects that test */
  readonly gic: string;
}

/**
 * QEMU and the built tests as `env` names them, or why the comparison
 * cannot run: the variable unset, an image not built, QEMU missing.
 */
export function findQemuTcgSetup(env: NodeJS.ProcessEnv = process.env): QemuTcgSetup | string {
  const dir = env.IRQLAB_KVM_UNIT_TESTS;
  if (dir === undefined || dir === "") return "IRQLAB_KVM_UNIT_TESTS is not set (a kvm-unit-tests tree built for arm64)";
  const microBench = join(dir, "arm", "micro-bench.flat");
  const gic = join(dir, "arm", "gic.flat");
  for (const image of [microBench, gic]) if (!existsSync(image)) return `${image} does not exist: kvm-unit-tests is not built there for arm64`;
  const qemu = env.QEMU !== undefined && env.QEMU !== "" ? env.QEMU : "qemu-system-aarch64";
  const v = spawnSync(qemu, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  if (v.error !== undefined || v.status !== 0) return `${qemu} --version failed: ${v.error?.message ?? v.stderr.trim()}`;
  return { qemu, version: v.stdout.split("\n")[0]!.trim(), microBench, gic };
}

/**
 * QEMU's arguments for `kernel` on `smp` CPUs, as arm/run builds them for
 * TCG: `-machine virt` with its chr-testdev (the virtio console through which
 * the test's exit() ends QEMU) and pci-testdev, the suite's default CPU for
 * TCG (DEFAULT_QEMU_CPU, cortex-a57), output on stdio. Beyond that: GICv3,
 * as irqlab's `-M virt -accel kvm` has (the vgic-v3) and as lpi and
 * its-trigger need (unittests.cfg gives its-trigger `-machine
 * gic-version=3`), and one thread for every vCPU (`-accel
 * tcg,thread=single`), which the model's one thread is set beside.
 */
export function qemuTcgArgs(kernel: string, smp: number, append?: string): string[] {
  return [
    "-nodefaults",
    "-machine",
    "virt,gic-version=3",
    "-accel",
    "tcg,thread=single",
    "-cpu",
    "cortex-a57",
    "-smp",
    String(smp),
    "-device",
    "virtio-serial-device",
    "-device",
    "virtconsole,chardev=ctd",
    "-chardev",
    "testdev,id=ctd",
    "-device",
    "pci-testdev",
    "-display",
    "none",
    "-serial",
    "stdio",
    "-kernel",
    kernel,
    ...(append !== undefined ? ["-append", append] : []),
  ];
}

/**
 * QEMU's exit status when a test calls exit(`code`) through chr-testdev:
 * `(code << 1) | 1` (chardev/testdev.c, testdev_eat_packet), so that a
 * test that passed (0) is told from QEMU's own exit with 0.
 */
export function testdevExitStatus(code: number): number {
  return (code << 1) | 1;
}

/**
 * Runs `kernel` under QEMU's TCG (see {@link qemuTcgArgs}); returns its
 * output (line ends as "\n") and the wall ns of the whole process. Throws
 * unless the test exited with 0 and printed so (`EXIT: STATUS=1`).
 */
export function runQemuTcg(setup: QemuTcgSetup, kernel: string, smp: number, append?: string): { out: string; wallNs: number } {
  const args = qemuTcgArgs(kernel, smp, append);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(setup.qemu, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 16 * 1024 * 1024 });
  const wallNs = Number(process.hrtime.bigint() - t0);
  if (r.error !== undefined) throw new Error(`${setup.qemu}: ${r.error.message}`);
  const out = r.stdout.replaceAll("\r\n", "\n");
  if (r.status !== testdevExitStatus(0) || !out.endsWith("EXIT: STATUS=1\n")) {
    throw new Error(`${setup.qemu} ${args.join(" ")}: exit ${r.status ?? r.signal}, not a passing test's ${testdevExitStatus(0)}\n${out}${r.stderr}`);
  }
  return { out, wallNs };
}
