/**
 * One run of seed 000 (VS-file exhaustion) under one remedy: several
 * riscv64 `virt` machines with `-accel kvm,riscv-aia=hwaccel` (or `auto`)
 * launched one after another on one host of `harts` × `geilen` guest
 * interrupt files, each guest taking device MSIs, measured.
 *
 * The VMs: vm0 (launched first) has `vcpus + 1` vCPUs, brings up half of
 * them at boot and idles (its vCPU threads sleep in WFI and keep their
 * VS-files, which the host scheduler does not see), and brings up the rest
 * later; vm1..vm(N-1) have `vcpus` vCPUs each and keep them busy. With the
 * defaults (8 VMs, 5 vCPUs, 8 harts × 5 files) 41 files are wanted and 40
 * exist. A device per VM sends each online vCPU an MSI every ~20 µs
 * (seeded jitter) through KVM_SIGNAL_MSI; the latency is from the send to
 * the claim in the guest's vector.
 */

import { KVM_MP_STATE_STOPPED } from "@irqlab/kvm";
import { Machine, MachineHost, parseSystemCommandLine, riscvVirtLayout, type MachineConfig } from "@irqlab/machine";
import { RngStreams } from "@irqlab/sim";
import { guestInForm } from "../framework/guest-form.js";
import { LatencySamples } from "../framework/latency-stats.js";
import { runBounded, type RunBoundsEnd } from "../framework/run-bounds.js";
import type { OccupancySeries } from "../framework/occupancy-series.js";
import { ScenarioError } from "../framework/scenario-error.js";
import { WORKLOAD_ONLINE_BASE, imsicMsiWorkload, workloadMsiId } from "./imsic-msi-workload.js";
import { VsFileManager } from "./vsfile-manager.js";
import { VsFileOccupancyLog } from "./vsfile-occupancy.js";

/** How the stack reacts to a missing VS-file (one per remedy). */
export interface VsFileRemedyConfig {
  readonly kernel: "linux-6.18" | "linux-6.19";
  readonly failEntry: "stop" | "pin-next";
  readonly riscvAia: "hwaccel" | "auto";
  readonly kernelMigrate: boolean;
  readonly managerPinning: boolean;
}

/** The sizes of a run. */
export interface VsFileSizes {
  readonly harts: number;
  readonly geilen: number;
  readonly vms: number;
  readonly vcpus: number;
  /** Virtual time of the run in µs. */
  readonly us: number;
}

/** What one run measured. */
export interface VsFileRunResult {
  readonly vmsLaunched: number;
  readonly vmsRunning: number;
  readonly vcpusWanted: number;
  readonly vcpusRunning: number;
  /** The first VM that stopped or was refused, with its launch position; undefined if none. */
  readonly victim: { readonly name: string; readonly index: number; readonly how: "internal-error" | "refused" } | undefined;
  /** VMs stopped in internal-error, in the order their vCPUs' entries failed. */
  readonly stopped: readonly string[];
  readonly repins: number;
  readonly migrations: number;
  /** A vCPU re-pinned over every hart without entering its guest. */
  readonly livelock: boolean;
  readonly vsLatency: LatencySamples;
  readonly swLatency: LatencySamples;
  readonly interrupts: number;
  readonly filesPerHart: readonly number[];
  /** Owners of every hart's guest interrupt files over the run, sampled from the HGEI allocator. */
  readonly occupancy: OccupancySeries;
  readonly end: RunBoundsEnd;
  readonly errors: readonly string[];
  readonly commandLines: readonly string[];
  readonly host: MachineHost;
}

const LAUNCH_GAP_NS = 100_000;
const LATE_START_NS = 1_000_000;
const MSI_PERIOD_NS = 20_000;
const BUSY_SLICE_NS = 10_000;

/** Checks sizes (the limits of the models underneath: MachineHost, the riscv virt board). */
export function checkVsFileSizes(s: Readonly<Record<string, number>>): VsFileSizes {
  const get = (k: string, min: number, max: number): number => {
    const v = s[k]!;
    if (v < min || v > max) throw new ScenarioError("bad-size", `size '${k}' must be between ${min} and ${max}, not ${v}`);
    return v;
  };
  return { harts: get("harts", 1, 64), geilen: get("geilen", 1, 63), vms: get("vms", 1, 32), vcpus: get("vcpus", 1, 31), us: get("us", 100, 100_000) };
}

/** The qemu-system-riscv64 command line of VM `i`. */
export function vsFileCommandLine(i: number, cpus: number, s: VsFileSizes, r: VsFileRemedyConfig): string[] {
  const accel = `kvm,riscv-aia=${r.riscvAia}${r.failEntry === "pin-next" ? ",x-fail-entry=pin-next" : ""}`;
  return ["-M", "virt,aia=aplic-imsic", "-accel", accel, "-smp", String(cpus), "-m", "64M", "-name", `vm${i}`, "--host", `${s.harts},guest-files=${s.geilen},kernel=${r.kernel}`];
}

function configOf(argv: string[]): MachineConfig {
  const p = parseSystemCommandLine("riscv64", argv);
  if (p.kind !== "run") throw new Error(`scenario command line did not parse: ${argv.join(" ")}`);
  return p.config;
}

/** Runs seed 000 under one remedy. Deterministic for a seed. With `loopForm`, the guests run in their loop form (ScenarioRunOptions.loopForm). */
export function runVsFile(s: VsFileSizes, r: VsFileRemedyConfig, seed: number, trace: boolean, loopForm = false): VsFileRunResult {
  const host = new MachineHost({ arch: "riscv64", harts: s.harts, guestFiles: s.geilen, kernel: r.kernel, kernelMigrate: r.kernelMigrate, trace });
  const rng = new RngStreams(seed).stream("seed-000/msi");
  const manager = r.managerPinning ? new VsFileManager(s.harts, s.geilen) : undefined;
  const vsLatency = new LatencySamples();
  const swLatency = new LatencySamples();
  const machines: Machine[] = [];
  const commandLines: string[] = [];
  let victim: VsFileRunResult["victim"];
  let interrupts = 0;
  let vcpusWanted = 0;
  const aia = host.aia!;

  const launch = (i: number): void => {
    const cpus = i === 0 ? s.vcpus + 1 : s.vcpus;
    vcpusWanted += cpus;
    const argv = vsFileCommandLine(i, cpus, s, r);
    commandLines.push(`irqlab system-riscv64 ${argv.join(" ")}`);
    const decision = manager?.admit(cpus);
    if (decision !== undefined && !decision.admitted) {
      victim ??= { name: `vm${i}`, index: i, how: "refused" };
      return;
    }
    const config = configOf(argv);
    const imsic = riscvVirtLayout(config).kvmAia!.imsicAddrs;
    const sentAt = new Float64Array(cpus).fill(-1);
    // The machine, for the guest's measurement callback (set once created, before any vCPU runs).
    const ref: { machine?: Machine } = {};
    const image = imsicMsiWorkload({
      harts: cpus,
      earlyHarts: i === 0 ? Math.ceil(cpus / 2) : cpus,
      lateStartNs: LATE_START_NS,
      busySliceNs: i === 0 ? 0 : BUSY_SLICE_NS,
      claimed: (id) => {
        const hart = id - workloadMsiId(0);
        const machine = ref.machine;
        if (machine === undefined || hart < 0 || hart >= cpus || sentAt[hart]! < 0) return;
        const ns = host.queue.now - sentAt[hart]!;
        sentAt[hart] = -1;
        interrupts++;
        const owner = aia.ownerFor(machine.vm.index, hart);
        (owner !== undefined && owner.vsFileCpu >= 0 ? vsLatency : swLatency).add(ns);
      },
    });
    const m = Machine.create({ host, config, kernel: guestInForm(image, loopForm) });
    ref.machine = m;
    machines.push(m);
    if (decision?.admitted === true) {
      decision.harts.forEach((h, k) => {
        m.cpus[k]!.vcpu.setThreadAffinity([h]);
      });
    }
    // The VM's device: every period, an MSI to each online hart whose last one was claimed.
    const send = (): void => {
      if (m.runState === "running") {
        const online = m.vm.memory.read(WORKLOAD_ONLINE_BASE, 4 * cpus);
        for (let h = 0; h < cpus; h++) {
          if (online[4 * h] !== 1 || sentAt[h]! >= 0) continue;
          sentAt[h] = host.queue.now;
          m.vm.signalMsi({ addressLo: imsic[h]!, addressHi: 0, data: workloadMsiId(h), flags: 0, devid: 0 });
        }
      }
      host.queue.scheduleAfter(MSI_PERIOD_NS + rng.int(0, 4_000), send);
    };
    host.queue.scheduleAfter(rng.int(0, MSI_PERIOD_NS), send);
  };

  const occupancy = new VsFileOccupancyLog(host);
  const limit = s.us * 1000;
  for (let i = 0; i < s.vms; i++) {
    host.run(Math.min(limit, i * LAUNCH_GAP_NS));
    launch(i);
  }
  const end = runBounded(host, { untilNs: limit, progress: () => interrupts, stallSlices: 20 });
  // Livelock: a VM re-pinned at least once per hart (a full cycle) and still has a vCPU that never entered its guest.
  const livelock = machines.some((m) => m.repins >= s.harts && m.runState === "running" && m.cpus.some((c) => !onlineWord(m, c.index) && c.vcpu.getMpState() !== KVM_MP_STATE_STOPPED));

  const stopped = stoppedInOrder(host, machines);
  const first = stopped[0];
  if (victim === undefined && first !== undefined) victim = { name: first.name, index: Number(first.name.slice(2)), how: "internal-error" };
  let vmsRunning = 0;
  let vcpusRunning = 0;
  for (const m of machines) {
    if (m.runState === "internal-error") continue;
    vmsRunning++;
    for (const c of m.cpus) if (onlineWord(m, c.index)) vcpusRunning++;
  }
  return {
    vmsLaunched: machines.length,
    vmsRunning,
    vcpusWanted,
    vcpusRunning,
    victim,
    stopped: stopped.map((m) => m.name),
    repins: machines.reduce((a, m) => a + m.repins, 0),
    migrations: host.placement.remedyMigrations,
    livelock,
    vsLatency,
    swLatency,
    interrupts,
    filesPerHart: aia.usage(),
    occupancy: occupancy.series(),
    end,
    errors: machines.flatMap((m) => m.errors),
    commandLines,
    host,
  };
}

function onlineWord(m: Machine, hart: number): boolean {
  return m.vm.memory.read(WORKLOAD_ONLINE_BASE + 4 * hart, 1)[0] === 1;
}

/** The VMs that stopped in internal-error, in the order their entries failed. */
function stoppedInOrder(host: MachineHost, machines: readonly Machine[]): Machine[] {
  const out: Machine[] = [];
  for (const f of host.aia?.failures ?? []) {
    const m = machines.find((x) => x.vm.index === f.vmIndex);
    if (m?.runState === "internal-error" && !out.includes(m)) out.push(m);
  }
  for (const m of machines) if (m.runState === "internal-error" && !out.includes(m)) out.push(m);
  return out;
}
