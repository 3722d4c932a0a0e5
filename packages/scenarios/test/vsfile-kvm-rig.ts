/**
 * Test rig: seed 000 (VS-file exhaustion) driven at the KVM level, one
 * vCPU run at a time, underneath the machine-level scenario of
 * src/seed-000 (which runs whole QEMU-like machines on a shared host), on
 * a modelled host: N harts × GEILEN guest interrupt files, vCPU threads placed by the {@link HostScheduler}, RISC-V
 * VMs with the in-kernel AIA in HWACCEL mode — with and without the
 * kernel-migrate remedy (see vsfile-placement.ts), or with the seed's QEMU
 * handler ("qemu-pin-next": on KVM_EXIT_FAIL_ENTRY with reason CSR_HSTATUS,
 * sched_setaffinity to hart (cpu + 1) % N and re-enter; never merged).
 *
 * How a vCPU is driven: the VMM (or the guest's SBI HSM hart_start) makes it
 * runnable, its thread enters KVM_RUN (woken by the scheduler, which chooses
 * the hart), the guest computes for 20 µs and then touches a device
 * (KVM_EXIT_MMIO back to the VMM). An "idle" vCPU's thread then sleeps (its
 * guest waits for interrupts) — and keeps its VS-file, which the scheduler
 * does not see; a "busy" vCPU's thread stays runnable and counts as load.
 * Stock QEMU has no handler for KVM_EXIT_FAIL_ENTRY: the
 * VM stops (RUN_STATE_INTERNAL_ERROR) at its first one, so none of its other
 * vCPUs is run afterwards.
 */

import {
  Host,
  HostScheduler,
  KVM_DEV_RISCV_AIA_MODE_HWACCEL,
  KVM_EXIT_FAIL_ENTRY,
  KVM_MP_STATE_RUNNABLE,
  Kvm,
  SchedulerPlacement,
  registerRiscvAia,
  type RiscvAiaKernelProfile,
} from "@irqlab/kvm";
import { createAiaVm, type AiaVm } from "../../kvm/test/aia-test-kit.js";
import { op } from "@irqlab/sim";
import { pinNextHostCpu } from "@irqlab/machine";

/** A device register outside RAM and the kernel bus: reading it exits to the VMM. */
const DEVICE = 0x1000_0000;

/** One step of a scenario: boot vCPUs of a VM (or start several threads at once). */
export interface VsFileStep {
  /** VM index in `vms`. */
  readonly vm: number;
  /** vCPU ids to start. */
  readonly vcpus: readonly number[];
  /** Wake all their threads before any runs (a simultaneous start) instead of one after another. */
  readonly together?: boolean;
  /** The threads stay runnable afterwards (busy guests) instead of sleeping (idle guests). */
  readonly busy?: boolean;
}

/** A scenario: the host, the VMs (vCPU counts, launch order = index order) and the steps. */
export interface VsFileScenario {
  readonly name: string;
  readonly harts: number;
  readonly geilen: number;
  readonly vms: readonly number[];
  readonly steps: readonly VsFileStep[];
}

/** How the system reacts to a missing VS-file. */
export type VsFileRemedy = "none" | "kernel-migrate" | "qemu-pin-next";

/** Re-pins after which a qemu-pin-next loop is reported as a livelock (the real loop never ends). */
const LIVELOCK_HOPS = 64;

/** What happened. */
export interface VsFileScenarioResult {
  readonly scenario: string;
  readonly remedy: VsFileRemedy;
  /** KVM_EXIT_FAIL_ENTRY exits the VMMs saw: vm, vCPU, cpu, reason. */
  readonly failEntries: { vm: string; vcpu: number; cpu: number; reason: number }[];
  /** VMs stopped by stock QEMU (first FAIL_ENTRY), in order. */
  readonly stoppedVms: string[];
  /** vCPUs that entered the guest. */
  readonly vcpusRunning: number;
  /** VS-files in use per hart at the end. */
  readonly filesPerHart: number[];
  /** Migrations made by the kernel-migrate remedy. */
  readonly remedyMigrations: number;
  /** qemu-pin-next: re-pins done, vCPU threads left pinned, vCPUs caught in the re-pin loop. */
  readonly repins: number;
  readonly pinnedThreads: number;
  readonly livelocked: string[];
  /** vCPUs that ran and are on the SW-file (AUTO fallback: trapped IMSIC accesses). */
  readonly swFileVcpus: number;
  /** Hart of each vCPU thread at the end, `vm<i>/vcpu<j>` → hart. */
  readonly placement: Record<string, number>;
}

/** The seed's situation: one 6-vCPU HWACCEL VM on an idle 8 × 5 host, vCPUs brought up one after another. */
export const SEED_STAGGERED: VsFileScenario = {
  name: "seed-staggered",
  harts: 8,
  geilen: 5,
  vms: [6],
  steps: [0, 1, 2, 3, 4, 5].map((v) => ({ vm: 0, vcpus: [v] })),
};

/** The same VM with all six vCPU threads started together. */
export const SEED_TOGETHER: VsFileScenario = { name: "seed-together", harts: 8, geilen: 5, vms: [6], steps: [{ vm: 0, vcpus: [0, 1, 2, 3, 4, 5], together: true }] };

const BACKGROUND = (vms: readonly number[]): VsFileStep[] => vms.flatMap((vm) => [0, 1, 2, 3, 4].map((v) => ({ vm, vcpus: [v], busy: true })));

/**
 * A busy host: six 5-vCPU HWACCEL VMs whose vCPUs keep running (30 files, the
 * scheduler spreads them 4-4-4-4-4-4-3-3), then a 6-vCPU HWACCEL VM whose
 * vCPUs come up one after another and idle. 36 of 40 files are needed.
 */
export const BUSY_HOST: VsFileScenario = {
  name: "busy-host-36-of-40",
  harts: 8,
  geilen: 5,
  vms: [5, 5, 5, 5, 5, 5, 6],
  steps: [...BACKGROUND([0, 1, 2, 3, 4, 5]), ...[0, 1, 2, 3, 4, 5].map((v) => ({ vm: 6, vcpus: [v] }))],
};

/**
 * Over-commit: VM 0 (6 vCPUs, launched first) brings up 3 vCPUs that idle;
 * then seven busy 5-vCPU VMs start (35 files); then VM 0's guest starts its
 * other 3 vCPUs (SBI HSM hart_start): 41 files wanted, 40 exist.
 */
export const OVERCOMMIT: VsFileScenario = {
  name: "overcommit-41-of-40",
  harts: 8,
  geilen: 5,
  vms: [6, 5, 5, 5, 5, 5, 5, 5],
  steps: [...[0, 1, 2].map((v) => ({ vm: 0, vcpus: [v] })), ...BACKGROUND([1, 2, 3, 4, 5, 6, 7]), ...[3, 4, 5].map((v) => ({ vm: 0, vcpus: [v] }))],
};

/** Options of {@link runVsFileScenario}. */
export interface VsFileRunOptions {
  /** Kernel profile (FAIL_ENTRY reason), default "linux-6.19". */
  readonly profile?: RiscvAiaKernelProfile;
  /** AIA mode of every VM (default HWACCEL; AUTO shows the SW-file fallback). */
  readonly mode?: number;
}

/** Runs `scenario` with or without the kernel-migrate remedy. Deterministic. */
export function runVsFileScenario(scenario: VsFileScenario, remedy: VsFileRemedy, options: VsFileRunOptions = {}): VsFileScenarioResult {
  const profile = options.profile ?? "linux-6.19";
  const mode = options.mode ?? KVM_DEV_RISCV_AIA_MODE_HWACCEL;
  const host = new Host({ cpus: scenario.harts });
  const kvm = new Kvm({ arch: "riscv64", host });
  const aia = registerRiscvAia(kvm, { geilen: scenario.geilen, profile });
  const sched = new HostScheduler(kvm.queue, { harts: scenario.harts });
  const placement = new SchedulerPlacement(sched, { aia, kernelMigrate: remedy === "kernel-migrate" });
  host.setPlacement(placement);
  const vms: AiaVm[] = scenario.vms.map((n, i) =>
    createAiaVm(kvm, { vcpus: n, mode, name: `vm${i}`, imsicBase: 0x2800_0000 + i * 0x10_0000 }),
  );
  for (const v of vms) {
    for (const c of v.vcpus) {
      c.loadGuest({
        main: function* () {
          yield op.compute(20_000);
          yield op.read(DEVICE, 4);
        },
      });
    }
  }
  const failEntries: VsFileScenarioResult["failEntries"] = [];
  const stopped = new Set<number>();
  const stoppedVms: string[] = [];
  let running = 0;
  const entered: { vm: AiaVm; id: number }[] = [];
  let repins = 0;
  const pinned = new Set<string>();
  const livelocked: string[] = [];
  for (const step of scenario.steps) {
    if (stopped.has(step.vm)) continue;
    const v = vms[step.vm]!;
    const list = step.vcpus.map((id) => v.vcpus[id]!);
    for (const c of list) c.setMpState(KVM_MP_STATE_RUNNABLE);
    if (step.together === true) for (const c of list) sched.wake(placement.threadOf(c));
    for (const c of list) {
      if (stopped.has(step.vm)) break;
      let e = c.run();
      // The seed's QEMU handler: pin to the next hart and re-enter, as long as KVM says CSR_HSTATUS.
      let hops = 0;
      while (remedy === "qemu-pin-next" && e.reason === KVM_EXIT_FAIL_ENTRY && hops < LIVELOCK_HOPS) {
        const next = pinNextHostCpu(e, scenario.harts);
        if (next < 0) break;
        c.setThreadAffinity([next]);
        pinned.add(`${v.vm.name}/${c.vcpuId}`);
        hops++;
        repins++;
        e = c.run();
      }
      if (hops === LIVELOCK_HOPS) {
        livelocked.push(`${v.vm.name}/vcpu${c.vcpuId}`);
        sched.sleep(placement.threadOf(c));
        continue;
      }
      if (e.reason === KVM_EXIT_FAIL_ENTRY) {
        failEntries.push({ vm: v.vm.name, vcpu: c.vcpuId, cpu: e.cpu, reason: e.hardwareEntryFailureReason });
        stopped.add(step.vm);
        stoppedVms.push(v.vm.name);
        // vm_stop(RUN_STATE_INTERNAL_ERROR): every vCPU thread of the VM parks; its VS-files stay owned.
        for (const x of v.vcpus) sched.sleep(placement.threadOf(x));
        break;
      }
      running++;
      entered.push({ vm: v, id: c.vcpuId });
      if (step.together !== true && step.busy !== true) sched.sleep(placement.threadOf(c));
    }
    if (step.together === true && step.busy !== true) for (const c of list) sched.sleep(placement.threadOf(c));
  }
  const where: Record<string, number> = {};
  for (const v of vms) for (const c of v.vcpus) where[`${v.vm.name}/vcpu${c.vcpuId}`] = placement.threadOf(c).hart;
  return {
    scenario: scenario.name,
    remedy,
    failEntries,
    stoppedVms,
    vcpusRunning: running,
    filesPerHart: aia.usage(),
    remedyMigrations: placement.remedyMigrations,
    repins,
    pinnedThreads: pinned.size,
    livelocked,
    swFileVcpus: entered.filter((x) => x.vm.aia.chip(x.id)!.vsFileCpu < 0).length,
    placement: where,
  };
}

/** A one-paragraph summary of a result. */
export function describeVsFileResult(r: VsFileScenarioResult): string {
  const fails = r.failEntries.map((f) => `${f.vm}/vcpu${f.vcpu} on hart ${f.cpu} (reason ${f.reason === 0x600 ? "0x600" : f.reason})`).join(", ");
  return (
    `${r.scenario} [${r.remedy}]: ${r.vcpusRunning} vCPUs running, ${r.failEntries.length} KVM_EXIT_FAIL_ENTRY` +
    (fails ? ` — ${fails}; stopped: ${r.stoppedVms.join(", ")}` : "") +
    `; files per hart [${r.filesPerHart.join(" ")}]; remedy migrations ${r.remedyMigrations}; re-pins ${r.repins} (${r.pinnedThreads} threads left pinned` +
    (r.livelocked.length > 0 ? `, livelock: ${r.livelocked.join(", ")}` : "") +
    `); on SW-file ${r.swFileVcpus}`
  );
}
