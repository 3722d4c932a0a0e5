/**
 * The whole RISC-V KVM path at data-centre scale: one Host of 1024 harts with
 * GEILEN = 63 guest interrupt files each, whose vCPU threads a HostScheduler
 * places (SchedulerPlacement), and 64 VMs of 64 vCPUs (4096 vCPUs) with the
 * in-kernel AIA — half in HWACCEL mode, half in AUTO — set up as QEMU does
 * (aia-test-kit.ts). Every vCPU's guest enables one IMSIC identity and waits
 * in WFI; its vector claims through stopei. The vCPUs of a VM share the
 * guest's ops, as they share the guest kernel's text; each has its own vector
 * state. KVM_RUN hands a vCPU's wait back to the bench (RunOptions.onWakeup),
 * which puts the vCPU's thread to sleep as the machine layer does
 * (Machine.threadBlocked): a vCPU in WFI sleeps in kvm_vcpu_block. The vCPUs
 * boot together, so the scheduler spreads their threads four to a hart, and
 * a delivery wakes the thread on the hart it last ran on (woken one at a
 * time onto idle harts, threads made asleep would all gather on the first).
 *
 * One operation is one delivered interrupt: an MSI to the next vCPU (round
 * robin over all 4096), every other one by KVM_SIGNAL_MSI and the rest by
 * signalling an irqfd on an MSI route (kvm_set_msi → kvm_riscv_aia_inject_msi),
 * then KVM_RUN with a run budget (RunOptions.until) returning when the vCPU
 * blocks again: wake-up, VS-file (or SW-file) delivery, the guest's claim. Every
 * 16th operation first re-pins the vCPU's thread to the next hart
 * (sched_setaffinity), so its KVM_RUN migrates it and, in HWACCEL or AUTO, moves
 * its VS-file (kvm_riscv_vcpu_aia_imsic_update). hz is delivered interrupts per
 * wall second on one core (target ≥ 1 M/s); `meta.heapBytesPerVcpu` is the heap
 * the 4096 vCPUs took to build and boot (after a GC when run with --expose-gc),
 * `meta.bytesPerOp` what every delivery allocates once the code is optimised
 * and the migrations have reached every hart and guest file they reach
 * (alloc-meter.ts, after sixteen rounds): a re-pin copies its new affinity.
 * Before that, the guest interrupt files an IMSIC makes at their first use,
 * as migrations reach hart and file pairs not used before, add about 26
 * bytes a delivery through the first fourteen rounds or so.
 *
 * The second task delivers the same way to the first 64 vCPUs only, on the
 * same host: a round robin whose vCPUs stay in the CPU's caches. The gap
 * between the two rates is what reaching 4096 vCPUs' state in memory costs,
 * apart from the work a delivery does. The last tasks do the same over the
 * first 1024 and 2048 vCPUs: the rate stays near the hot one while the
 * state a round robin touches fits in the last-level cache, and falls to
 * the 4096-vCPU one once it does not (between 1024 and 2048 vCPUs of about
 * 5 KB of heap each on the two-CPU machine the README's figures come from).
 * How much of that cache the process has moves with what else runs on the
 * machine: the machine probe's cache curve, which `npm run bench` records
 * beside these figures, shows it (the chase size where loads turn into
 * memory's).
 */
import { bench, describe } from "vitest";
import { bytesAllocatedPerOp } from "./alloc-meter.js";
import { GEILEN, HARTS, HOT_VCPUS, MIGRATE_EVERY, PER_CALL, ROTATION_SIZES, VCPUS, buildScaleRig, scaleDeliveries } from "./riscv-scale-rig.js";

declare const gc: (() => void) | undefined;

describe("@irqlab/kvm RISC-V at scale: 1024 harts, GEILEN 63, 64 VMs x 64 vCPUs", () => {
  const s = buildScaleRig();
  const { deliver, deliverHot, deliverAmong, migrations } = scaleDeliveries(s);
  // Measured once optimised (the first rounds run unoptimised code, which boxes doubles that optimised code keeps
  // unboxed) and the migrations have reached every hart and file pair they reach (see the file's doc).
  const bytesPerOp = bytesAllocatedPerOp(deliver, 16 * VCPUS);
  bench(
    `MSI (KVM_SIGNAL_MSI / irqfd) → VS-file → KVM_RUN → guest claims, 4096 vCPUs, a migration every ${MIGRATE_EVERY} [x${PER_CALL}]`,
    () => {
      for (let i = 0; i < PER_CALL; i++) deliver();
    },
    { meta: { harts: HARTS, geilen: GEILEN, vcpus: VCPUS, heapBytesPerVcpu: s.heapBytesPerVcpu, hostHeapBytes: s.hostHeapBytes, gcExposed: typeof gc === "function", bytesPerOp } } as object,
  );
  bench(`the same, to ${HOT_VCPUS} of the 4096 vCPUs in turn (their state stays in cache) [x${PER_CALL}]`, () => {
    for (let i = 0; i < PER_CALL; i++) deliverHot();
  });
  for (const n of ROTATION_SIZES) {
    const among = deliverAmong(n);
    bench(`the same, to ${n} of the 4096 vCPUs in turn [x${PER_CALL}]`, () => {
      for (let i = 0; i < PER_CALL; i++) among();
    });
  }
  process.on("exit", () => {
    if (process.env.IRQLAB_SCALE_REPORT !== undefined) {
      console.error(`delivered ${s.count.n}, migrations ${migrations()}, virtual ns ${s.queue.now}, heap bytes/vCPU ${s.heapBytesPerVcpu}, host heap ${s.hostHeapBytes}`);
    }
  });
});
