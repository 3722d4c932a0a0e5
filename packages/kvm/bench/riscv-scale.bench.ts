/**
 * The whole RISC-V KVM path at data-centre scale: one Host of 1024 harts with
 * GEILEN = 63 guest interrupt files each, whose vCPU threads a HostScheduler
 * places (SchedulerPlacement), and 64 VMs of 64 vCPUs (4096 vCPUs) with the
 * in-kernel AIA — half in HWACCEL mode, half in AUTO — set up as QEMU does
 * (aia-test-kit.ts). Every vCPU's guest enables one IMSIC identity and waits
 * in WFI; its vector claims through stopei. The vCPUs of a VM share the
 * guest's ops, as they share the guest kernel's text; each has its own vector
 * state. KVM_RUN hands a vCPU's wait back to the bench (RunOptions.onWakeup),
 * which, unlike the machine layer (Machine.threadBlocked), does not put the
 * thread to sleep: the scheduler keeps all 4096 threads runnable, four a
 * hart, and time-slices them (about one slice end per delivery). Sleeping
 * them, each pinned to hart (index mod 1024) so that wake-ups do not gather
 * them on the first idle hart, took the same wall time per delivery.
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
 * `meta.bytesPerOp` what one delivery allocates once the code is optimised
 * (alloc-meter.ts, after eight rounds): what is left is mostly the guest
 * interrupt files an IMSIC makes at their first use, as migrations reach
 * hart and file pairs not used before.
 *
 * The second task delivers the same way to the first 64 vCPUs only, on the
 * same host: a round robin whose vCPUs stay in the CPU's caches. The gap
 * between the two rates is what reaching 4096 vCPUs' state in memory costs,
 * apart from the work a delivery does.
 */
import { EventQueue, StateMachineProgram, op, type GuestOp, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { bench, describe } from "vitest";
import { Host } from "../src/host.js";
import { EventFd } from "../src/irqfd/eventfd.js";
import { KVM_IRQ_ROUTING_MSI, type MsiRoute } from "../src/irqfd/gsi-routing.js";
import type { KvmMsi } from "../src/irqchip.js";
import { Kvm } from "../src/kvm.js";
import { registerRiscvAia } from "../src/riscv-aia/aia-register.js";
import { KVM_DEV_RISCV_AIA_MODE_AUTO, KVM_DEV_RISCV_AIA_MODE_HWACCEL } from "../src/riscv-aia/aia-uapi.js";
import { CSR_SIREG, CSR_SISELECT, CSR_STOPEI } from "../src/riscv-aia/aia-vcpu.js";
import { HostScheduler } from "../src/sched/host-scheduler.js";
import { CSR_SIE, IRQ_S_EXT } from "../src/uapi/sbi.js";
import { KVM_EXIT_INTR } from "../src/uapi/exit-reasons.js";
import { KVM_MP_STATE_RUNNABLE } from "../src/uapi/mp-state.js";
import type { Vcpu } from "../src/vcpu.js";
import { SchedulerPlacement } from "../src/vsfile/vsfile-placement.js";
import { VIRT_IMSIC_S, createAiaVm } from "../test/aia-test-kit.js";
import { bytesAllocatedPerOp } from "./alloc-meter.js";

const HARTS = 1024;
const GEILEN = 63;
const VMS = 64;
const VCPUS_PER_VM = 64;
const VCPUS = VMS * VCPUS_PER_VM;
/** The identity every guest enables and every MSI carries. */
const ID = 7;
const PER_CALL = 4096;
const MIGRATE_EVERY = 16;
/** vCPUs of the second task's round robin: few enough for their state to stay in cache. */
const HOT_VCPUS = 64;
/** KVM_RUN budget: far more than one delivery costs in virtual time. */
const BUDGET_NS = 1_000_000;

declare const gc: (() => void) | undefined;

function heapUsed(): number {
  if (typeof gc === "function") gc();
  return process.memoryUsage().heapUsed;
}

/**
 * The vector: `csrrw stopei` until it reads 0, counting the claims, as a
 * state machine with one reused yield record rather than a generator made
 * for every interrupt (one per vCPU: its vector runs masked, never nested).
 */
class ClaimLoop extends StateMachineProgram {
  #started = false;

  constructor(
    private readonly claim: GuestOp,
    private readonly count: { n: number },
  ) {
    super(claim, undefined);
  }

  next(r: GuestResult): IteratorResult<GuestOp, void> {
    if (this.#started) {
      if (r.value >>> 16 === 0) {
        this.#started = false;
        return this.finish(undefined);
      }
      this.count.n++;
    }
    this.#started = true;
    return this.yieldOp(this.claim);
  }

  protected ended(): void {
    this.#started = false;
  }
}

/** The guest's code: its ops, built once per VM and shared by its vCPUs, as they share the guest kernel's text. */
interface GuestCode {
  readonly main: () => GuestProgram;
  readonly claim: GuestOp;
}

function guestCode(): GuestCode {
  const enable: GuestOp[] = [
    op.csrWrite(CSR_SISELECT, 0x70),
    op.csrWrite(CSR_SIREG, 1), // eidelivery = 1
    op.csrWrite(CSR_SISELECT, 0xc0), // eie0
    op.csrSet(CSR_SIREG, 1 << ID),
    op.csrSet(CSR_SIE, 1 << IRQ_S_EXT),
    op.unmask(),
  ];
  // The idle loop `for (;;) wfi();` as one repeat: the same executions, without resuming main after each
  // interrupt (a resume makes an iterator result, and at 4096 vCPUs every allocation is a cache miss).
  const idle = op.repeat(Number.MAX_SAFE_INTEGER, op.wfi());
  return {
    main: function* () {
      for (const o of enable) yield o;
      for (;;) yield idle;
    },
    claim: op.csrWrite(CSR_STOPEI, 0),
  };
}

/** A vCPU's guest: the VM's code, and a vector of its own that claims with `csrrw stopei` until nothing is pending, counting the claims. */
function countingGuest(code: GuestCode, count: { n: number }): { main: () => GuestProgram; vector: () => GuestProgram } {
  // The vector is one reused program: no interrupt makes a generator.
  const claims = new ClaimLoop(code.claim, count);
  return { main: code.main, vector: () => claims };
}

function build() {
  const empty = heapUsed();
  const queue = new EventQueue();
  const sched = new HostScheduler(queue, { harts: HARTS, timeSlice: 3_000_000, balanceInterval: 4_000_000 });
  const host = new Host({ cpus: HARTS, placement: new SchedulerPlacement(sched) });
  const kvm = new Kvm({ arch: "riscv64", host, queue });
  const aia = registerRiscvAia(kvm, { geilen: GEILEN });
  const count = { n: 0 };
  const vcpus: Vcpu[] = [];
  const msis: KvmMsi[] = [];
  const fds: EventFd[] = [];
  // Before: the host (1024 harts' IMSICs, whose guest files are made at first use) and the scheduler exist; after: every VM and vCPU, booted.
  const before = heapUsed();
  for (let m = 0; m < VMS; m++) {
    const mode = m % 2 === 0 ? KVM_DEV_RISCV_AIA_MODE_HWACCEL : KVM_DEV_RISCV_AIA_MODE_AUTO;
    const a = createAiaVm(kvm, { vcpus: VCPUS_PER_VM, mode, ids: 63, name: `vm${m}` });
    const routes: MsiRoute[] = [];
    const code = guestCode();
    for (let i = 0; i < VCPUS_PER_VM; i++) {
      const v = a.vcpus[i]!;
      v.setMpState(KVM_MP_STATE_RUNNABLE); // secondary harts start stopped (kvm_arch_vcpu_postcreate): the VMM starts them
      v.loadGuest(countingGuest(code, count));
      const addr = VIRT_IMSIC_S + i * 0x1000;
      msis.push({ addressLo: addr, addressHi: 0, data: ID, flags: 0, devid: 0 });
      routes.push({ gsi: i, type: KVM_IRQ_ROUTING_MSI, flags: 0, addressLo: addr, addressHi: 0, data: ID, devid: 0 });
      vcpus.push(v);
    }
    a.vm.setGsiRouting(routes);
    for (let i = 0; i < VCPUS_PER_VM; i++) {
      const fd = new EventFd();
      a.vm.irqfd({ fd, gsi: i });
      fds.push(fd);
    }
  }
  const opts: { until: number; onWakeup: () => void } = { until: 0, onWakeup: () => undefined };
  // Boot every vCPU to its WFI.
  for (const v of vcpus) {
    opts.until = queue.now + BUDGET_NS;
    v.run(0, opts);
  }
  const after = heapUsed();
  return { queue, aia, count, vcpus, msis, fds, opts, hostHeapBytes: before - empty, heapBytesPerVcpu: Math.round((after - before) / VCPUS) };
}

describe("@irqlab/kvm RISC-V at scale: 1024 harts, GEILEN 63, 64 VMs x 64 vCPUs", () => {
  const s = build();
  const { queue, count, vcpus, msis, fds, opts } = s;
  const pins = Array.from({ length: HARTS }, (_, h) => Object.freeze([h]));
  let ops = 0;
  let migrations = 0;
  /** One delivery to vCPU `k` (every MIGRATE_EVERY-th delivery first re-pins its thread). */
  const deliverTo = (k: number): void => {
    const v = vcpus[k]!;
    if ((++ops & (MIGRATE_EVERY - 1)) === 0) {
      v.setThreadAffinity(pins[(v.hostCpu + 1) % HARTS]!);
      migrations++;
    }
    if ((k & 1) === 0) v.vm.signalMsi(msis[k]!);
    else fds[k]!.signal();
    opts.until = queue.now + BUDGET_NS;
    const e = v.run(0, opts);
    if (e.reason !== KVM_EXIT_INTR) throw new Error(`vCPU ${v.vm.name}/${v.vcpuId}: exit ${e.reason}`);
  };
  let k = 0;
  const deliver = (): void => {
    deliverTo(k);
    k = k + 1 === VCPUS ? 0 : k + 1;
  };
  let hot = 0;
  const deliverHot = (): void => {
    deliverTo(hot);
    hot = hot + 1 === HOT_VCPUS ? 0 : hot + 1;
  };
  // One round over every vCPU: each takes its interrupt, and some migrate.
  const start = count.n;
  for (let i = 0; i < VCPUS; i++) deliver();
  if (count.n - start !== VCPUS) throw new Error(`bench setup: ${count.n - start} of ${VCPUS} interrupts delivered`);
  if (s.aia.allocator.totalFree > HARTS * GEILEN - VCPUS / 2) throw new Error("bench setup: the HWACCEL vCPUs hold no VS-files");
  // Measured once optimised: the first rounds run unoptimised code, which boxes doubles that optimised code keeps unboxed.
  const bytesPerOp = bytesAllocatedPerOp(deliver, 8 * VCPUS);
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
  process.on("exit", () => {
    if (process.env.IRQLAB_SCALE_REPORT !== undefined) {
      console.error(`delivered ${count.n}, migrations ${migrations}, virtual ns ${queue.now}, heap bytes/vCPU ${s.heapBytesPerVcpu}, host heap ${s.hostHeapBytes}`);
    }
  });
});
