/**
 * The machine of the RISC-V scale bench (riscv-scale.bench.ts) and of its
 * span runner (riscv-scale-span.ts, which `npm run bench:compare` runs): one
 * Host of 1024 harts with GEILEN = 63 guest interrupt files each, whose vCPU
 * threads a HostScheduler places, and 64 VMs of 64 vCPUs with the in-kernel
 * AIA, half HWACCEL and half AUTO, every guest in WFI with one IMSIC identity
 * enabled; and the delivery of one MSI to a vCPU, KVM_RUN until it blocks
 * again (see the bench for what is measured and why).
 */

import { EventQueue, StateMachineProgram, op, type GuestOp, type GuestProgram, type GuestResult } from "@irqlab/sim";
import { Host } from "../src/host.js";
import { EventFd } from "../src/irqfd/eventfd.js";
import { KVM_IRQ_ROUTING_MSI, type MsiRoute } from "../src/irqfd/gsi-routing.js";
import type { VcpuExit } from "../src/kvm-run.js";
import { Kvm } from "../src/kvm.js";
import { registerRiscvAia } from "../src/riscv-aia/aia-register.js";
import { KVM_DEV_RISCV_AIA_MODE_AUTO, KVM_DEV_RISCV_AIA_MODE_HWACCEL } from "../src/riscv-aia/aia-uapi.js";
import { CSR_SIREG, CSR_SISELECT, CSR_STOPEI } from "../src/riscv-aia/aia-vcpu.js";
import { HostScheduler } from "../src/sched/host-scheduler.js";
import type { HostThread } from "../src/sched/host-thread.js";
import { CSR_SIE, IRQ_S_EXT } from "../src/uapi/sbi.js";
import { KVM_EXIT_INTR } from "../src/uapi/exit-reasons.js";
import { KVM_MP_STATE_RUNNABLE } from "../src/uapi/mp-state.js";
import type { Vcpu } from "../src/vcpu.js";
import type { GuestImage } from "../src/vcpu-core.js";
import { SchedulerPlacement } from "../src/vsfile/vsfile-placement.js";
import { VIRT_IMSIC_S, createAiaVm } from "../test/aia-test-kit.js";

/** Host harts, each with GEILEN guest interrupt files. */
export const HARTS = 1024;
export const GEILEN = 63;
const VMS = 64;
const VCPUS_PER_VM = 64;
/** vCPUs of all the VMs. */
export const VCPUS = VMS * VCPUS_PER_VM;
/** The identity every guest enables and every MSI carries. */
const ID = 7;
/** Deliveries per bench call (and per timed span of the span runner). */
export const PER_CALL = 4096;
/** Every this many deliveries, the vCPU's thread is first re-pinned to the next hart. */
export const MIGRATE_EVERY = 16;
/** vCPUs of the hot round robin: few enough for their state to stay in cache. */
export const HOT_VCPUS = 64;
/**
 * Round robins between the hot one and all 4096 vCPUs: where the rate falls
 * between them tells how much state a delivery touches per vCPU, against the
 * size of the machine's last-level cache.
 */
export const ROTATION_SIZES: readonly number[] = Object.freeze([1024, 2048]);
/** KVM_RUN budget: far more than one delivery costs in virtual time. */
const BUDGET_NS = 1_000_000;

declare const gc: (() => void) | undefined;

function heapUsed(): number {
  if (typeof gc === "function") gc();
  return process.memoryUsage().heapUsed;
}

/**
 * A vCPU's guest: the VM's code (its main program and claim op, shared by
 * the VM's vCPUs as they share the guest kernel's text), and a vector of its
 * own, `csrrw stopei` until it reads 0, counting the claims. The vector is
 * this object, a state machine that is its own result record: no interrupt
 * makes a generator, and the image, its vector, the vector's state and its
 * result are one object (at 4096 vCPUs, each object a delivery reaches is a
 * cache miss). Its vector runs masked, never nested.
 */
class ClaimingGuest extends StateMachineProgram implements GuestImage {
  readonly main: () => GuestProgram;
  readonly #claim: GuestOp;
  readonly #count: { n: number };
  #started = false;

  constructor(code: GuestCode, count: { n: number }) {
    super(code.claim);
    this.main = code.main;
    this.#claim = code.claim;
    this.#count = count;
  }

  vector(): GuestProgram {
    return this;
  }

  next(r: GuestResult): IteratorResult<GuestOp, void> {
    if (this.#started) {
      if (r.value >>> 16 === 0) {
        this.#started = false;
        return this.finish(undefined);
      }
      this.#count.n++;
    }
    this.#started = true;
    return this.yieldOp(this.#claim);
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

/**
 * Checks that KVM_RUN returned because the vCPU blocked in WFI.
 * @throws Error naming the exit otherwise
 */
function blockedIn(v: Vcpu, e: VcpuExit): void {
  if (e.reason !== KVM_EXIT_INTR) throw new Error(`vCPU ${v.vm.name}/${v.vcpuId}: exit ${e.reason}, not blocked in WFI`);
  if (e.cause !== "blocked") throw new Error(`vCPU ${v.vm.name}/${v.vcpuId}: KVM_EXIT_INTR (${e.cause}), not blocked in WFI`);
}

/** The built machine: 4096 vCPUs booted to their WFI. */
export type ScaleRig = ReturnType<typeof buildScaleRig>;

/** Builds the machine; `heapBytesPerVcpu` and `hostHeapBytes` are measured after a GC when gc is exposed. */
export function buildScaleRig() {
  const empty = heapUsed();
  const queue = new EventQueue();
  const sched = new HostScheduler(queue, { harts: HARTS, timeSlice: 3_000_000, balanceInterval: 4_000_000 });
  const placement = new SchedulerPlacement(sched);
  const host = new Host({ cpus: HARTS, placement });
  const kvm = new Kvm({ arch: "riscv64", host, queue });
  const aia = registerRiscvAia(kvm, { geilen: GEILEN });
  const count = { n: 0 };
  const vcpus: Vcpu[] = [];
  const threads: HostThread[] = [];
  // Each vCPU's IMSIC page, where its MSIs go.
  const msiAddresses: number[] = [];
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
      v.loadGuest(new ClaimingGuest(code, count));
      const addr = VIRT_IMSIC_S + i * 0x1000;
      msiAddresses.push(addr);
      routes.push({ gsi: i, type: KVM_IRQ_ROUTING_MSI, flags: 0, addressLo: addr, addressHi: 0, data: ID, devid: 0 });
      vcpus.push(v);
      threads.push(placement.threadOf(v));
    }
    a.vm.setGsiRouting(routes);
    for (let i = 0; i < VCPUS_PER_VM; i++) {
      const fd = new EventFd();
      a.vm.irqfd({ fd, gsi: i });
      fds.push(fd);
    }
  }
  const opts: { until: number; onWakeup: () => void } = { until: 0, onWakeup: () => undefined };
  // Boot every vCPU to its WFI. The threads stay runnable until all have run, as when every vCPU boots at
  // once: the scheduler spreads them over the harts, four to a hart. Then they sleep, each vCPU blocked in
  // WFI (kvm_vcpu_block), and a delivery wakes the thread on the hart it last ran on.
  for (let i = 0; i < VCPUS; i++) {
    opts.until = queue.now + BUDGET_NS;
    blockedIn(vcpus[i]!, vcpus[i]!.run(0, opts));
  }
  for (const t of threads) sched.sleep(t);
  const after = heapUsed();
  return { queue, sched, aia, count, vcpus, threads, msiAddresses, fds, opts, hostHeapBytes: before - empty, heapBytesPerVcpu: Math.round((after - before) / VCPUS) };
}

/** The deliveries of a rig: to every vCPU in turn, or to the first HOT_VCPUS (or `n`) in turn. */
export interface ScaleDeliveries {
  /** One MSI to the next of the 4096 vCPUs, and its KVM_RUN. */
  readonly deliver: () => void;
  /** One MSI to the next of the first HOT_VCPUS vCPUs, and its KVM_RUN. */
  readonly deliverHot: () => void;
  /** A function that delivers one MSI to the next of the first `n` vCPUs, and its KVM_RUN (a round robin of its own). */
  readonly deliverAmong: (n: number) => () => void;
  /** Threads re-pinned so far. */
  readonly migrations: () => number;
}

/**
 * The rig's deliveries: every other MSI by KVM_SIGNAL_MSI, the rest by an
 * irqfd's signal; every MIGRATE_EVERY-th delivery first re-pins the vCPU's
 * thread to the next hart. A first round over every vCPU is made and checked
 * here: each took its interrupt, and the HWACCEL vCPUs hold VS-files.
 * @throws Error if the setup round did not deliver what it should
 */
export function scaleDeliveries(s: ScaleRig): ScaleDeliveries {
  const { queue, sched, count, vcpus, threads, msiAddresses, fds, opts } = s;
  // One struct kvm_msi filled for each KVM_SIGNAL_MSI, as QEMU's kvm_irqchip_send_msi fills one on its stack.
  const msi = { addressLo: 0, addressHi: 0, data: ID, flags: 0, devid: 0 };
  const pins = Array.from({ length: HARTS }, (_, h) => Object.freeze([h]));
  let ops = 0;
  let migrations = 0;
  const deliverTo = (k: number): void => {
    const v = vcpus[k]!;
    if ((++ops & (MIGRATE_EVERY - 1)) === 0) {
      v.setThreadAffinity(pins[(v.hostCpu + 1) % HARTS]!);
      migrations++;
    }
    if ((k & 1) === 0) {
      msi.addressLo = msiAddresses[k]!;
      v.vm.signalMsi(msi);
    } else fds[k]!.signal();
    opts.until = queue.now + BUDGET_NS;
    blockedIn(v, v.run(0, opts));
    sched.sleep(threads[k]!);
  };
  let k = 0;
  const deliver = (): void => {
    deliverTo(k);
    k = k + 1 === VCPUS ? 0 : k + 1;
  };
  const deliverAmong = (n: number): (() => void) => {
    if (!Number.isInteger(n) || n < 1 || n > VCPUS) throw new RangeError(`scale rig: a round robin of ${n} of ${VCPUS} vCPUs`);
    let next = 0;
    return () => {
      deliverTo(next);
      next = next + 1 === n ? 0 : next + 1;
    };
  };
  const deliverHot = deliverAmong(HOT_VCPUS);
  const start = count.n;
  for (let i = 0; i < VCPUS; i++) deliver();
  if (count.n - start !== VCPUS) throw new Error(`scale rig: ${count.n - start} of ${VCPUS} interrupts delivered`);
  if (s.aia.allocator.totalFree > HARTS * GEILEN - VCPUS / 2) throw new Error("scale rig: the HWACCEL vCPUs hold no VS-files");
  return { deliver, deliverHot, deliverAmong, migrations: () => migrations };
}
