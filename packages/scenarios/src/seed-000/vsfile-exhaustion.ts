/**
 * Seed 000: VS-file exhaustion (RISC-V, `-accel kvm,riscv-aia=hwaccel`).
 * The thread: a QEMU patch re-pins a vCPU thread to hart (cpu + 1) % N when
 * KVM_RUN fails with KVM_EXIT_FAIL_ENTRY for want of a guest interrupt file;
 * drew's reply argues it livelocks once every file is taken, that QEMU
 * should not pin (policy belongs to the management layer), proposes KVM
 * migrating (not pinning) to a hart with a free file, and notes that under
 * over-subscription the migrate approach can kill a VM launched earlier
 * while management-layer pinning makes the last VM fail before it runs.
 * Every row is measured from machines run on one shared host (vsfile-run.ts).
 */

import type { RemedyRow, Scenario, ScenarioColumn, ScenarioRemedy, ScenarioRunOptions } from "../scenario.js";
import { ScenarioError } from "../framework/scenario-error.js";
import { checkVsFileSizes, runVsFile, vsFileCommandLine, type VsFileRemedyConfig, type VsFileRunResult, type VsFileSizes } from "./vsfile-run.js";

const BASE: VsFileRemedyConfig = { kernel: "linux-6.19", failEntry: "stop", riscvAia: "hwaccel", kernelMigrate: false, managerPinning: false };

const REMEDY_CONFIG: Readonly<Record<string, VsFileRemedyConfig>> = {
  none: BASE,
  "qemu-pin-next-6.18": { ...BASE, kernel: "linux-6.18", failEntry: "pin-next" },
  "qemu-pin-next-6.19": { ...BASE, failEntry: "pin-next" },
  "kvm-migrate": { ...BASE, kernelMigrate: true },
  "mgmt-pinning": { ...BASE, managerPinning: true },
  auto: { ...BASE, riscvAia: "auto" },
};

const REMEDIES: readonly ScenarioRemedy[] = [
  { name: "none", title: "stock QEMU, no handler", description: "QEMU has no case for KVM_EXIT_FAIL_ENTRY: kvm_arch_handle_exit logs \"un-handled exit reason\", kvm_cpu_exec returns -1 and the VM stops in internal-error, all its vCPUs with it (host Linux 6.19)." },
  {
    name: "qemu-pin-next-6.18",
    title: "the patch's pin-next handler, host Linux 6.18",
    description: "BillXiang's patch: on KVM_EXIT_FAIL_ENTRY with hardware_entry_failure_reason == CSR_HSTATUS (0x600, what Linux up to 6.18 reports for a missing VS-file) sched_setaffinity to hart (cpu + 1) % N and re-enter (-accel kvm,x-fail-entry=pin-next).",
  },
  {
    name: "qemu-pin-next-6.19",
    title: "the patch's pin-next handler, host Linux 6.19",
    description: "The same patch on a host whose KVM reports KVM_EXIT_FAIL_ENTRY_NO_VSFILE (1): the patch tests for CSR_HSTATUS only, falls through to \"un-handled exit reason\" and the VM stops as with stock QEMU.",
  },
  { name: "kvm-migrate", title: "KVM migrates the vCPU to a hart with a free VS-file", description: "drew's proposal: KVM tracks free VS-files and migrates (does not pin) a HWACCEL vCPU to a hart with a free file instead of failing the entry; it fails only when no hart has one." },
  {
    name: "mgmt-pinning",
    title: "the management layer counts files and pins vCPUs 1:1",
    description: "drew's alternative: a virt manager knows GEILEN per hart, pins each vCPU thread to a hart with a free file (affinity, one hart per vCPU) and refuses to launch a VM when too few files are left.",
  },
  { name: "auto", title: "riscv-aia=auto: SW-file fallback", description: "KVM_DEV_RISCV_AIA_MODE_AUTO: a vCPU without a free VS-file runs on KVM's software interrupt file; every VM runs, interrupts to those vCPUs cost a trap per IMSIC CSR access." },
];

const COLUMNS: readonly ScenarioColumn[] = [
  { key: "vms_running", title: "VMs running", description: "VMs in run state running at the end (not stopped in internal-error, not refused)." },
  { key: "vcpus_running", title: "vCPUs running", description: "vCPUs of running VMs whose guest marked itself online (written by the guest to its RAM)." },
  { key: "died", title: "VMs stopped or refused", description: "The VMs that stopped (internal-error) or were refused at launch, in the order it happened; (first)/(last) marks the first and last launched VM." },
  { key: "repins", title: "re-pins", description: "sched_setaffinity calls made by QEMU's pin-next handler (Machine.repins)." },
  { key: "migrations", title: "migrations", description: "vCPU migrations KVM made to find a free VS-file (SchedulerPlacement.remedyMigrations)." },
  { key: "livelock", title: "livelock", description: "A VM re-pinned at least once per host hart (a full cycle) and still has a vCPU that never entered its guest." },
  { key: "vs_p50", title: "latency VS-file p50", unit: "us", description: "MSI latency, device send (KVM_SIGNAL_MSI) to claim in the guest's vector (stopei), for vCPUs on a VS-file: median." },
  { key: "vs_p99", title: "latency VS-file p99", unit: "us", description: "The same, 99th percentile (nearest rank)." },
  { key: "sw_p50", title: "latency SW-file p50", unit: "us", description: "MSI latency for vCPUs on KVM's software file (AUTO fallback): median." },
  { key: "sw_p99", title: "latency SW-file p99", unit: "us", description: "The same, 99th percentile (nearest rank)." },
  { key: "interrupts", title: "interrupts taken", description: "MSIs claimed by the guests during the run." },
];

function diedText(r: VsFileRunResult, s: VsFileSizes): string {
  const names = [...r.stopped];
  if (r.victim?.how === "refused") names.push(r.victim.name);
  if (names.length === 0) return "none";
  const tag = (n: string): string => {
    const i = Number(n.slice(2));
    return i === 0 ? `${n} (first)` : i === s.vms - 1 ? `${n} (last)` : n;
  };
  return names.map(tag).join(", ");
}

function verdict(remedy: string, r: VsFileRunResult, s: VsFileSizes): string {
  const total = s.vms;
  const of = `${r.vmsRunning} of ${total} VMs run`;
  if (r.livelock) return `${of}; a vCPU re-pins around all ${s.harts} harts without end (livelock: every VS-file is taken)`;
  if (r.victim?.how === "refused") return `${of}: the last VM (${r.victim.name}) is refused before it runs; no running VM is harmed`;
  if (r.victim !== undefined) {
    const which = r.victim.index === 0 ? "the VM launched first" : r.victim.index === s.vms - 1 ? "the VM launched last" : `a VM launched in between (${r.victim.name})`;
    const more = r.vmsLaunched - r.vmsRunning > 1 ? ` (${r.vmsLaunched - r.vmsRunning} VMs stopped in all)` : "";
    return `${of}: ${which} stops in internal-error at KVM_EXIT_FAIL_ENTRY${more}`;
  }
  if (r.swLatency.count > 0) {
    return `all ${total} VMs and ${r.vcpusRunning} vCPUs run; vCPUs on the SW-file pay ${((r.swLatency.percentileUs(50) ?? 0) - (r.vsLatency.percentileUs(50) ?? 0)).toFixed(2)} us more at p50`;
  }
  return remedy === "none" ? `all ${total} VMs run: no vCPU met a full hart` : `all ${total} VMs and ${r.vcpusRunning} vCPUs run`;
}

function run(remedy: string, o: ScenarioRunOptions): RemedyRow {
  const cfg = REMEDY_CONFIG[remedy];
  if (cfg === undefined) throw new ScenarioError("unknown-remedy", `scenario 'vsfile-exhaustion' has no remedy '${remedy}'`);
  const s = checkVsFileSizes({ ...vsFileExhaustion.sizes, ...(o.sizes ?? {}) });
  const r = runVsFile(s, cfg, o.seed, o.trace === true, o.loopForm === true);
  const notes = [
    `command line of vm0: ${r.commandLines[0] ?? ""}`,
    `${r.vcpusWanted} vCPUs wanted, ${s.harts * s.geilen} VS-files; files in use per hart at the end: ${r.filesPerHart.join(" ")}`,
    ...r.errors.slice(0, 3).map((e) => `QEMU: ${e}`),
  ];
  if (r.end.end === "stalled") notes.push(`the run made no progress for 2 ms of virtual time and was ended at ${(r.end.at / 1000).toFixed(0)} us`);
  return {
    remedy,
    values: {
      vms_running: r.vmsRunning,
      vcpus_running: r.vcpusRunning,
      died: diedText(r, s),
      repins: r.repins,
      migrations: r.migrations,
      livelock: r.livelock,
      vs_p50: r.vsLatency.percentileUs(50),
      vs_p99: r.vsLatency.percentileUs(99),
      sw_p50: r.swLatency.percentileUs(50),
      sw_p99: r.swLatency.percentileUs(99),
      interrupts: r.interrupts,
    },
    verdict: (r.end.end === "stalled" ? `no progress after ${(r.end.at / 1000).toFixed(0)} us, run ended: ` : "") + verdict(remedy, r, s),
    notes,
    occupancy: r.occupancy,
    ...(o.trace === true ? { tracer: r.host.tracer } : {}),
  };
}

/** Seed 000: VS-file exhaustion, every remedy of the thread on the same host and VMs. */
export const vsFileExhaustion: Scenario = {
  name: "vsfile-exhaustion",
  seed: "000",
  title: "VS-file exhaustion on RISC-V (riscv-aia=hwaccel)",
  explain: [
    "Thread: \"[PATCH] target/riscv/kvm: add a handler for VS-file allocation failure\" (July 2025).",
    "A host of `harts` harts with `geilen` guest interrupt files (VS-files) each runs `vms` riscv64",
    "virt machines with -accel kvm,riscv-aia=hwaccel. vm0 (launched first) has vcpus+1 vCPUs, brings",
    "half up at boot, idles in WFI (its threads sleep and keep their files, which the Linux scheduler",
    "does not see) and brings the rest up 1 ms later; the others have `vcpus` busy vCPUs. With the",
    "defaults 41 VS-files are wanted and 40 exist. Each VM's device sends every online vCPU an MSI",
    "about every 20 us; latency is measured from KVM_SIGNAL_MSI to the claim in the guest (stopei).",
    "",
    "VM command line (vm0, stock QEMU):",
    `  irqlab system-riscv64 ${vsFileCommandLine(0, 6, { harts: 8, geilen: 5, vms: 8, vcpus: 5, us: 2000 }, BASE).join(" ")}`,
    "",
    "The QEMU patch recognises only hardware_entry_failure_reason CSR_HSTATUS (0x600), which KVM",
    "reported up to Linux 6.18; Linux 6.19 reports KVM_EXIT_FAIL_ENTRY_NO_VSFILE (1), so under 6.19",
    "the patch falls through to \"un-handled exit reason\" and behaves like stock QEMU.",
    "",
    "Sizes: harts, geilen (files per hart), vms, vcpus (per VM; vm0 has one more), us (run length).",
  ].join("\n"),
  remedies: REMEDIES,
  columns: COLUMNS,
  sizes: { harts: 8, geilen: 5, vms: 8, vcpus: 5, us: 2000 },
  run,
};
