/**
 * Interrupt conservation across VMs of both architectures. Several VMs share
 * one virtual clock; edge interrupts are raised at random virtual times by
 * every injection path the VM offers (arm64: KVM_IRQ_LINE pulses, irqfd on
 * the default and on explicit irqchip routes for SPIs; KVM_SIGNAL_MSI and
 * irqfd on MSI routes translated by the vITS into LPIs; the guest's own INT
 * commands on the vITS command queue. riscv64: KVM_SIGNAL_MSI and irqfd on
 * MSI routes into the IMSIC; KVM_IRQ_LINE on in-kernel APLIC sources in MSI
 * mode), while the vCPUs run with budgets on random host CPUs (vCPU
 * migration; on RISC-V a change of host hart moves the VS-file, or falls back
 * to the SW-file when the hart has none free). Guests acknowledge and
 * complete every interrupt.
 *
 * The checker: a raise that finds the interrupt already pending in the model
 * is coalesced (GICv3 edge latch, IMSIC eip bit: one pending bit per
 * interrupt, IHI 0069H §4.1, IMSIC.adoc §3.9); every other raise must be taken
 * exactly once. So, per VM and interrupt, taken ≤ expected at every point (no
 * take without a raise, no duplicate, nothing taken that another VM raised),
 * and taken = expected once the guests have drained (nothing lost). A raise
 * the guest issues itself (an INT command) is decided when the guest issues
 * it; every request must have been issued by the end.
 */

import { Host, Kvm, registerRiscvAia } from "@irqlab/kvm";
import { EventQueue } from "@irqlab/sim";
import { check, type FuzzTarget } from "../target.js";
import { armVm } from "./conservation-arm-vm.js";
import { riscvVm, type Account, type ConservedVm } from "./conservation-vms.js";

interface Setup {
  readonly vms: readonly { readonly arch: "arm64" | "riscv64"; readonly vcpus: number }[];
  readonly hostCpus: number;
  readonly geilen: number;
}

type Op =
  | { readonly k: "raise"; readonly vm: number; readonly src: number; readonly how: number; readonly dt: number }
  | { readonly k: "run"; readonly vm: number; readonly vcpu: number; readonly cpu: number; readonly budget: number };

const DRAIN_ROUNDS = 40;
/** Interrupts per VM a `src` picks from (modulo the VM's count). */
const MAX_SOURCES = 16;

/** `account(vi)` is the checker's callback for VM `vi`. */
function build(s: Setup, account: (vi: number) => Account) {
  const queue = new EventQueue();
  const arm = new Kvm({ queue, host: new Host({ cpus: s.hostCpus }) });
  const rv = new Kvm({ arch: "riscv64", queue, host: new Host({ cpus: s.hostCpus }) });
  registerRiscvAia(rv, { geilen: s.geilen });
  const vms = s.vms.map((v, vi) => (v.arch === "arm64" ? armVm(arm, v.vcpus, account(vi)) : riscvVm(rv, v.vcpus, account(vi))));
  return { queue, vms };
}

/** Raises per path in the last case executed, over all its VMs. */
let lastRaised: Record<string, number> = {};

export const conservation: FuzzTarget<Setup, Op> = {
  name: "conservation",
  about: "arm64 (vgic) and riscv64 (AIA) VMs: every edge raised is taken once or coalesced while pending; none lost or crossed",
  generate(rng, count) {
    const setup: Setup = {
      vms: Array.from({ length: rng.int(2, 4) }, (_, i) => ({ arch: i % 2 === 0 ? "arm64" : "riscv64", vcpus: rng.int(1, 2) }) as const),
      hostCpus: rng.int(1, 3),
      geilen: rng.int(1, 2),
    };
    const ops: Op[] = [];
    for (let i = 0; i < count; i++) {
      const vm = rng.int(0, setup.vms.length - 1);
      if (rng.chance(0.6)) ops.push({ k: "raise", vm, src: rng.int(0, MAX_SOURCES - 1), how: rng.int(0, 5), dt: rng.chance(0.3) ? 0 : rng.int(1, 30_000) });
      else ops.push({ k: "run", vm, vcpu: rng.int(0, setup.vms[vm]!.vcpus - 1), cpu: rng.int(0, setup.hostCpus - 1), budget: rng.int(1_000, 60_000) });
    }
    return { setup, ops };
  },
  execute(setup, ops, step) {
    lastRaised = {};
    const expected = setup.vms.map(() => new Map<number, number>());
    const coalesced = setup.vms.map(() => 0);
    // Called by the VM right before each raise (or by its guest, before an INT command).
    const account = (vi: number): Account => (id) => {
      if (vms[vi]!.pending(id)) coalesced[vi]!++;
      else expected[vi]!.set(id, (expected[vi]!.get(id) ?? 0) + 1);
    };
    const { queue, vms } = build(setup, account);
    const raise = (vi: number, src: number, how: number): void => {
      const v = vms[vi]!;
      const s = v.sources[src % v.sources.length]!;
      v.raise(s.id, s.injections[how % s.injections.length]!);
    };
    const audit = (final: boolean): void => {
      vms.forEach((v, vi) => {
        const counts = new Map<number, number>();
        for (const id of v.taken) counts.set(id, (counts.get(id) ?? 0) + 1);
        for (const [id, n] of counts) {
          const want = expected[vi]!.get(id) ?? 0;
          check(v.sources.some((s) => s.id === id), "crossed", () => `VM ${vi} took interrupt ${id}, which is not one of its own`);
          check(n <= want, "taken-without-raise", () => `VM ${vi} took interrupt ${id} ${n} times for ${want} raise(s) (${coalesced[vi]} coalesced in the VM)`);
        }
        if (final) {
          check(v.backlog() === 0, "lost", () => `VM ${vi} (${setup.vms[vi]!.arch}): the guest never issued ${v.backlog()} requested INT command(s)`);
          for (const [id, want] of expected[vi]!) {
            const n = counts.get(id) ?? 0;
            check(n === want, "lost", () => `VM ${vi} (${setup.vms[vi]!.arch}) took interrupt ${id} ${n} times for ${want} raise(s) not coalesced`);
          }
        }
      });
    };
    const runVcpu = (v: ConservedVm, vcpu: number, cpu: number, budget: number): void => {
      const c = v.vcpus[vcpu]!;
      // sched_setaffinity on the vCPU thread: the next KVM_RUN migrates it there.
      c.setThreadAffinity([cpu]);
      c.run(0, { until: queue.now + budget });
    };
    for (let i = 0; i < ops.length; i++) {
      step(i);
      const o = ops[i]!;
      if (o.k === "raise") {
        if (o.dt === 0) raise(o.vm, o.src, o.how);
        else queue.schedule(queue.now + o.dt, () => { raise(o.vm, o.src, o.how); });
      } else {
        runVcpu(vms[o.vm]!, o.vcpu, o.cpu, o.budget);
        audit(false);
      }
    }
    step(ops.length);
    // Drain: every vCPU runs until nothing is outstanding (or the rounds are used up: then something was lost).
    for (let round = 0; round < DRAIN_ROUNDS; round++) {
      vms.forEach((v) => {
        v.vcpus.forEach((_, c) => {
          runVcpu(v, c, c % setup.hostCpus, 100_000);
        });
      });
      const outstanding = vms.some((v, vi) => v.backlog() > 0 || [...expected[vi]!.values()].reduce((a, b) => a + b, 0) > v.taken.length);
      if (!outstanding) break;
    }
    lastRaised = {};
    for (const v of vms) for (const [how, n] of v.raised) lastRaised[how] = (lastRaised[how] ?? 0) + n;
    audit(true);
  },
  coverage: () => lastRaised,
};
