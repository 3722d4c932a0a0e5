/**
 * Every image of the registry, on each architecture it boots on, run as
 * written (its repeats, sequences and polls executed by the run loop's fast
 * paths) and through `loopFormImage` (every one of them as the loop of
 * yields it stands for): the console, how the run ended, the virtual time,
 * every counter, each vCPU thread's runs and exits and — traced — the trace
 * must be the same. Untraced runs take the fast paths a trace turns off (the
 * bulk of a repeated in-kernel access, a repeated quiet load answered inside
 * KVM_RUN), so both are compared.
 */
import { Machine, parseSystemCommandLine } from "@irqlab/machine";
import { describe, expect, test } from "vitest";
import { guestImages, loopFormImage, type GuestImage } from "../src/index.js";

type Arch = "aarch64" | "riscv64";

/** The machine each image is run on: its devices, CPUs and AIA mode as its own tests run it. */
const MSIX = ["-device", "x-irqlab-msix-test,vectors=8", "-device", "x-irqlab-msix-test,vectors=16"];
const RISCV_AIA = ["-M", "virt,aia=aplic-imsic", "-accel", "kvm,riscv-aia=hwaccel"];
const WORKLOADS: readonly { name: string; arch: Arch; argv: readonly string[]; ns?: number }[] = [
  { name: "its-trigger", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm", "-smp", "4"] },
  { name: "virtio-shared-vector", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm", "-smp", "1", "-device", "vfio-pci,host=0000:01:00.0"] },
  { name: "storm", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm", "-smp", "2", ...MSIX] },
  { name: "storm", arch: "riscv64", argv: [...RISCV_AIA, "-smp", "2", ...MSIX] },
  { name: "hello", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm"] },
  { name: "hello", arch: "riscv64", argv: [...RISCV_AIA] },
  { name: "smp-hello", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm", "-smp", "4"] },
  { name: "smp-hello", arch: "riscv64", argv: [...RISCV_AIA, "-smp", "4"] },
  // Nothing is hot-plugged: boot, bring-up of the CPUs present, then idle until the deadline.
  { name: "hotplug", arch: "aarch64", argv: ["-M", "virt,x-cpu-hotplug=precreate", "-accel", "kvm", "-smp", "2,maxcpus=4"], ns: 50_000_000 },
  { name: "panic-test", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm"] },
  { name: "panic-test", arch: "riscv64", argv: [...RISCV_AIA] },
  { name: "sbi-ipi", arch: "riscv64", argv: [...RISCV_AIA, "-smp", "4"] },
  { name: "imsic-ipi", arch: "riscv64", argv: [...RISCV_AIA, "-smp", "4"] },
  { name: "idle", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm", "-smp", "4"] },
  { name: "idle", arch: "riscv64", argv: [...RISCV_AIA, "-smp", "4"] },
  { name: "gicv3-ipi", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm", "-smp", "4"] },
  { name: "gicv3-active", arch: "aarch64", argv: ["-M", "virt", "-accel", "kvm", "-smp", "2"] },
];

interface Outcome {
  readonly out: string;
  readonly end: string;
  readonly now: number;
  readonly counters: unknown;
  /** Each vCPU thread's KVM_RUN calls and exits, as QEMU's thread counts them. */
  readonly threads: readonly (readonly [runs: number, exits: number])[];
  readonly trace: string;
}

function run(arch: Arch, argv: readonly string[], image: GuestImage, trace: boolean, ns: number): Outcome {
  const parsed = parseSystemCommandLine(arch, [...argv, "-nographic"]);
  if (parsed.kind !== "run") throw new Error(`command line did not parse to a run: ${parsed.kind}`);
  let out = "";
  const m = Machine.create({ config: parsed.config, kernel: image, console: (s) => (out += s), trace });
  const end = m.run(ns);
  m.flushConsole();
  const threads = m.cpus.map((c) => [c.thread.runs, c.thread.exits] as const);
  return { out, end, now: m.queue.now, counters: m.tracer.counters.toJSON(), threads, trace: trace ? m.tracer.toText() : "" };
}

describe("every registry image runs the same as its loop form", () => {
  test("the table covers every image on every architecture it boots on", () => {
    const covered = new Set(WORKLOADS.map((w) => `${w.name}/${w.arch}`));
    // micro-bench has its own comparison (apps/cli gic-workloads), all of its tests at 256 iterations.
    const expected = Object.entries(guestImages).flatMap(([name, e]) => (name === "micro-bench" ? [] : e.arch.map((a) => `${name}/${a}`)));
    expect([...covered].sort()).toEqual(expected.sort());
  });

  test.each(WORKLOADS.map((w) => [`${w.name} on ${w.arch}`, w] as const))("%s", (_label, w) => {
    const entry = guestImages[w.name]!;
    const ns = w.ns ?? 60_000_000_000;
    for (const trace of [false, true]) {
      const loop = run(w.arch, w.argv, loopFormImage(entry.create()), trace, ns);
      const fast = run(w.arch, w.argv, entry.create(), trace, ns);
      expect(fast.out).toBe(loop.out);
      expect(fast.end).toBe(loop.end);
      expect(fast.now).toBe(loop.now);
      expect(fast.counters).toEqual(loop.counters);
      expect(fast.threads).toEqual(loop.threads);
      expect(fast.trace).toBe(loop.trace);
      expect(fast.out.length).toBeGreaterThan(0);
    }
  }, 120_000);
});
