/**
 * GICv4.1 direct injection seen by a guest running under vcpu.run() on the
 * vgic-v3 device: the vCPU's vPE is resident while it runs (vgic_v4_load at
 * entry), non-resident with the doorbell requested while it blocks in WFI
 * (kvm_vcpu_wfi → vgic_v4_put with IN_WFI), the doorbell wakes it
 * (vgic_v4_doorbell_handler: pending_last, KVM_REQ_IRQ_PENDING, kick), and
 * the guest's ICC_IAR1/HPPIR1/EOIR1/RPR weigh the vPE's vLPIs against the
 * emulated interrupts (arch/arm64/kvm/vgic/vgic-v4.c, vgic.c kvm_vgic_vcpu_pending_irq,
 * arm.c kvm_vcpu_wfi).
 */
import {
  GICD_CTLR,
  GICD_CTLR_ENABLE_SS_G1,
  GICD_ICFGR,
  GICD_IPRIORITYR,
  GICD_ISENABLER,
  GICR_CTLR,
  GICR_PENDBASER,
  GICR_PROPBASER,
  ICC_EOIR1_EL1,
  ICC_HPPIR0_EL1,
  ICC_HPPIR1_EL1,
  ICC_IAR0_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICC_RPR_EL1,
  ITS_MSI_DELIVERED_VIRTUAL,
  itsCommand as cmd,
} from "@irqlab/gic";
import { EventQueue, op, Tracer, type GuestProgram } from "@irqlab/sim";
import { describe, expect, it } from "vitest";
import { EventFd } from "../../irqfd/eventfd.js";
import { KVM_IRQ_ROUTING_MSI, KVM_MSI_VALID_DEVID } from "../../irqfd/gsi-routing.js";
import { KVM_IRQFD_FLAG_DEASSIGN } from "../../irqfd/vm-irqfds.js";
import { Kvm } from "../../kvm.js";
import { KVM_ARM_TARGET_GENERIC_V8, KVM_DEV_TYPE_ARM_VGIC_ITS, KVM_DEV_TYPE_ARM_VGIC_V3 } from "../../uapi/device-types.js";
import { KVM_EXIT_INTR } from "../../uapi/exit-reasons.js";
import type { GuestImage } from "../../vcpu-core.js";
import { DIST_BASE, REDIST_BASE } from "../test-fixture.js";
import {
  KVM_DEV_ARM_ITS_CTRL_RESET,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
} from "../vgic-uapi.js";
import { VgicV3 } from "../vgic-v3.js";
import { HostGicv4 } from "./host-gicv4.js";
import { enableVgicV4, GICV4_BEHAVIOURS, type Gicv4Behaviour } from "./vgic-v4-forwarding.js";
import { GuestItsDriver, ITS_BASE, ITT, PEND, PROP, RAM, RAM_SIZE } from "./vits-rig.js";

const DEV = 0x10;
const VLPI = 8193;
/** The vLPI's priority in the guest's LPI configuration table. */
const VLPI_PRIO = 0xa0;
const SPI = 40;
const INJECT_AT = 50_000;

/**
 * An arm64 VM with the vgic-v3 and a vITS mapping (DEV, 0) → vLPI 8192 and
 * (DEV, 1) → vLPI 8193. By default one host vector is forwarded onto 8193;
 * `seed001` gives the function seven vectors as in seed 001 (entry 0 → MSI
 * data 0, entries 1–6 → data 1), each behind its own irqfd and producer.
 */
function rig(behaviour: Gicv4Behaviour = "linux-6.16", seed001 = false) {
  const queue = new EventQueue();
  const kvm = new Kvm({ queue, tracer: new Tracer(queue, { enabled: false }) });
  const vm = kvm.createVm();
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: RAM_SIZE });
  const vgicFd = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  vgicFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST_BASE });
  vgicFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: REDIST_BASE });
  const itsFd = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
  itsFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: ITS_BASE });
  vgicFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const vgic = VgicV3.of(vm)!;
  const gic = vgic.gic!;
  // The guest's LPI set-up (what its GICv3 driver did before: tables, EnableLPIs, ITS mappings).
  for (let i = 0; i < 64; i++) vm.memory.writeU8(PROP + i, VLPI_PRIO | 3);
  gic.redistributors.write(GICR_PROPBASER, 8, PROP | 15, 0);
  gic.redistributors.write(GICR_PENDBASER, 8, PEND, 0);
  gic.redistributors.write(GICR_CTLR, 4, 1, 0);
  const driver = new GuestItsDriver(vm.kernelBus, vm.memory);
  driver.enable();
  driver.submit(cmd.mapd(DEV, ITT + 0x10000, 3), cmd.mapc(0, 0), cmd.mapti(DEV, 0, VLPI - 1, 0), cmd.mapti(DEV, 1, VLPI, 0));
  // The host: a passthrough function's MSI-X vectors, VFIO's handler signalling each one's irqfd.
  const host = new HostGicv4({ vpes: 1 });
  const vectors = host.addDevice(3, seed001 ? 7 : 1);
  enableVgicV4(vm, { host, behaviour });
  const data = (entry: number): number => (seed001 && entry === 0 ? 0 : 1);
  vm.setGsiRouting(
    vectors.map((_, e) => ({ gsi: 10 + e, type: KVM_IRQ_ROUTING_MSI, flags: KVM_MSI_VALID_DEVID, addressLo: ITS_BASE + 0x10040, addressHi: 0, data: data(e), devid: DEV })),
  );
  const fds = vectors.map((hv, e) => {
    const fd = new EventFd();
    host.requestIrq(hv.irq, () => fd.signal());
    vm.irqfd({ fd, gsi: 10 + e });
    kvm.irqBypass.registerProducer({ irq: hv.irq }, fd); // add_producer → kvm_vgic_v4_set_forwarding
    return fd;
  });
  expect(host.isForwarded(vectors[0]!.irq)).toBe(true);
  const chip = vgic.vcpuChip(0)!;
  expect(vcpu.irqChip).toBe(chip);
  return { kvm, vm, vcpu, gic, host, hostIrq: vectors[0]!.irq, chip, vectors, fds, itsFd };
}

interface Taken {
  intid: number;
  at: number;
  /** ICC_RPR_EL1 in the handler, after the acknowledge. */
  rpr: number;
  /** ICC_RPR_EL1 after ICC_EOIR1_EL1. */
  rprAfter: number;
}

/**
 * A GICv3 guest: enables group 1 (GICD_CTLR, PMR 0xff, IGRPEN1), optionally an
 * edge SPI at `spiPrio`, unmasks, computes `computeNs`, then waits in WFI. The
 * vector acknowledges (IAR1), reads RPR, completes (EOIR1), reads RPR again.
 */
function guest(q: EventQueue, taken: Taken[], o: { computeNs?: number; spiPrio?: number } = {}): GuestImage {
  return {
    main: function* (): GuestProgram {
      yield op.write(DIST_BASE + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
      if (o.spiPrio !== undefined) {
        const cfg = DIST_BASE + GICD_ICFGR + (SPI >>> 4) * 4;
        const old = (yield op.read(cfg, 4)).value;
        yield op.write(cfg, 4, (old | (1 << (2 * (SPI & 15) + 1))) >>> 0);
        yield op.write(DIST_BASE + GICD_IPRIORITYR + SPI, 1, o.spiPrio);
        yield op.write(DIST_BASE + GICD_ISENABLER + (SPI >>> 5) * 4, 4, 1 << (SPI & 31));
      }
      yield op.msr(ICC_PMR_EL1, 0xff);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      yield op.unmask();
      if (o.computeNs !== undefined) yield op.compute(o.computeNs);
      for (;;) yield op.wfi();
    },
    vector: function* (): GuestProgram {
      const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
      const at = q.now;
      if (intid === 1023) {
        // An interrupt signalled that ICC_IAR1_EL1 does not give: the run loop would retake it forever.
        if (taken.length > 32) throw new Error("interrupt storm: the vCPU is signalled but IAR1 reads spurious");
        taken.push({ intid, at, rpr: -1, rprAfter: -1 });
        return;
      }
      const rpr = (yield op.mrs(ICC_RPR_EL1)).value;
      yield op.msr(ICC_EOIR1_EL1, intid);
      const rprAfter = (yield op.mrs(ICC_RPR_EL1)).value;
      taken.push({ intid, at, rpr, rprAfter });
    },
  };
}

describe("GICv4.1 direct vLPIs under vcpu.run()", () => {
  it("a vCPU waiting in WFI is woken by the doorbell and takes the vLPI from ICC_IAR1_EL1", () => {
    const { kvm, vcpu, gic, host, hostIrq, chip } = rig();
    const taken: Taken[] = [];
    vcpu.loadGuest(guest(kvm.queue, taken));
    let residentAtFire = true;
    let delivered = -1;
    kvm.queue.schedule(INJECT_AT, () => {
      residentAtFire = host.frames[0]!.resident !== undefined;
      delivered = host.fire(hostIrq);
    });
    const exit = vcpu.run(); // boots, blocks in WFI, doorbell, takes the vLPI, blocks again: idle
    expect(exit.reason).toBe(KVM_EXIT_INTR);
    expect(residentAtFire).toBe(false); // vgic_v4_put(need_db) when blocking
    expect(delivered).toBe(ITS_MSI_DELIVERED_VIRTUAL);
    expect(host.doorbells).toBe(1);
    expect(host.hostInterrupts).toBe(0); // never went through the host handler / irqfd
    // The vLPI's priority is active while the handler runs; EOIR1 drops it (LPIs have no active state).
    expect(taken.map((t) => [t.intid, t.rpr, t.rprAfter])).toEqual([[VLPI, VLPI_PRIO, 0xff]]);
    expect(taken[0]!.at).toBeGreaterThan(INJECT_AT);
    // Nothing left: no pending vLPI, idle running priority, no pending interrupt for KVM.
    expect(host.frames[0]!.resident).toBeDefined(); // vgic_v4_load after the (idle) block
    expect(host.directSource(0).highestPendingVlpi()).toBe(-1);
    expect(gic.readSysReg(0, ICC_RPR_EL1)).toBe(0xff);
    expect(chip.hasPendingIrq()).toBe(false);
  });

  it("a running vCPU with its vPE resident takes the vLPI without a doorbell and without leaving KVM_RUN", () => {
    const { kvm, vcpu, host, hostIrq, chip } = rig();
    const taken: Taken[] = [];
    const computeNs = 200_000;
    vcpu.loadGuest(guest(kvm.queue, taken, { computeNs }));
    let residentAtFire = false;
    kvm.queue.schedule(INJECT_AT, () => {
      residentAtFire = host.frames[0]!.resident !== undefined;
      host.fire(hostIrq);
    });
    kvm.tracer.enabled = true;
    const exit = vcpu.run();
    expect(exit.reason).toBe(KVM_EXIT_INTR); // the only exit: idle in WFI at the end
    expect(residentAtFire).toBe(true); // vgic_v4_load at entry
    // Hardware delivers to a resident vPE: no KVM_REQ_IRQ_PENDING (so no kick, no world switch).
    expect(kvm.tracer.toText()).not.toMatch(/ request req=KVM_REQ_IRQ_PENDING/);
    expect(host.doorbells).toBe(0);
    expect(taken.map((t) => [t.intid, t.rpr, t.rprAfter])).toEqual([[VLPI, VLPI_PRIO, 0xff]]);
    expect(taken[0]!.at).toBeGreaterThan(INJECT_AT);
    expect(taken[0]!.at).toBeLessThan(computeNs); // taken while computing, not at the WFI
    expect(host.directSource(0).highestPendingVlpi()).toBe(-1);
    expect(chip.hasPendingIrq()).toBe(false);
  });

  it.each([
    ["a higher-priority SPI goes first", 0x80, [SPI, VLPI]],
    ["a lower-priority SPI goes after the vLPI", 0xc0, [VLPI, SPI]],
  ])("emulated and direct interrupts by priority: %s", (_name, spiPrio, order) => {
    const { kvm, vm, vcpu, host, hostIrq } = rig();
    const taken: Taken[] = [];
    vcpu.loadGuest(guest(kvm.queue, taken, { spiPrio }));
    kvm.queue.schedule(INJECT_AT, () => {
      host.fire(hostIrq);
      vm.irqLine((1 << 24) | SPI, 1);
      vm.irqLine((1 << 24) | SPI, 0);
    });
    vcpu.run();
    expect(taken.map((t) => t.intid)).toEqual(order);
    // Each handler ran at its own priority and dropped it at EOIR1.
    expect(taken.map((t) => t.rpr)).toEqual(order.map((i) => (i === SPI ? spiPrio : VLPI_PRIO)));
    expect(taken.every((t) => t.rprAfter === 0xff)).toBe(true);
  });

  it("ICC_HPPIR1 shows the resident vLPI, group-0 views do not, PMR masks it, vCPU put hides it until PendingLast", () => {
    const { vcpu, gic, host, hostIrq, chip } = rig();
    const w = { hi: 0 };
    gic.distributor.write(GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1, 0);
    chip.writeSysReg(ICC_IGRPEN1_EL1, 1, 0);
    chip.writeSysReg(ICC_PMR_EL1, 0xff, 0);
    chip.flush(vcpu.hostCpu); // guest entry: vgic_v4_load
    expect(host.frames[0]!.resident).toBeDefined();
    host.fire(hostIrq);
    expect(chip.hasPendingIrq()).toBe(true);
    expect(chip.readSysReg(ICC_HPPIR1_EL1, w)).toBe(VLPI);
    expect(chip.readSysReg(ICC_HPPIR0_EL1, w)).toBe(1023);
    expect(chip.readSysReg(ICC_IAR0_EL1, w)).toBe(1023);
    // Priority 0xa0 is not under PMR 0x80: neither signalled nor acknowledged (but still the highest pending).
    chip.writeSysReg(ICC_PMR_EL1, 0x80, 0);
    expect(chip.hasPendingIrq()).toBe(false);
    expect(chip.readSysReg(ICC_IAR1_EL1, w)).toBe(1023);
    expect(chip.readSysReg(ICC_HPPIR1_EL1, w)).toBe(VLPI);
    chip.writeSysReg(ICC_PMR_EL1, 0xff, 0);
    // Blocking: put with the doorbell; PendingLast is set (a vLPI is pending), which is what KVM looks at now.
    chip.blocking();
    expect(host.frames[0]!.resident).toBeUndefined();
    expect(chip.pendingLast).toBe(true);
    expect(chip.hasPendingIrq()).toBe(true);
    expect(chip.readSysReg(ICC_HPPIR1_EL1, w)).toBe(1023); // not resident: the CPU interface has no vLPI
    chip.unblocking();
    expect(chip.readSysReg(ICC_IAR1_EL1, w)).toBe(VLPI);
    expect(chip.readSysReg(ICC_RPR_EL1, w)).toBe(VLPI_PRIO);
    chip.writeSysReg(ICC_EOIR1_EL1, VLPI, 0);
    expect(chip.readSysReg(ICC_RPR_EL1, w)).toBe(0xff);
    // Blocking with nothing pending: PendingLast clear, the doorbell is armed instead.
    chip.blocking();
    expect(chip.pendingLast).toBe(false);
    expect(chip.hasPendingIrq()).toBe(false);
    host.fire(hostIrq);
    expect(host.doorbells).toBeGreaterThan(0);
    expect(chip.pendingLast).toBe(true);
    expect(chip.hasPendingIrq()).toBe(true);
  });

  it("with the distributor's group 1 disabled nothing is pending for KVM (kvm_vgic_vcpu_pending_irq checks vgic.enabled first)", () => {
    const { vcpu, host, hostIrq, chip } = rig();
    chip.writeSysReg(ICC_IGRPEN1_EL1, 1, 0);
    chip.writeSysReg(ICC_PMR_EL1, 0xff, 0);
    chip.flush(vcpu.hostCpu);
    host.fire(hostIrq);
    expect(chip.hasPendingIrq()).toBe(false);
    chip.blocking();
    expect(chip.pendingLast).toBe(true);
    expect(chip.hasPendingIrq()).toBe(false);
  });

  it.each(GICV4_BEHAVIOURS)("seed 001 with a running guest (%s): after the reset, the firmware takes what is still forwarded", (b) => {
    const { kvm, vm, vcpu, host, vectors, fds, itsFd } = rig(b, true);
    // The guest reboots: QEMU deassigns every irqfd (del_producer → unset_forwarding), then resets the vITS.
    fds.forEach((fd, e) => {
      vm.irqfd({ fd, gsi: 10 + e, flags: KVM_IRQFD_FLAG_DEASSIGN });
    });
    itsFd.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
    // The firmware enables group 1 and waits in WFI; it has mapped no LPI. The function fires every vector.
    const taken: Taken[] = [];
    vcpu.loadGuest(guest(kvm.queue, taken));
    kvm.queue.schedule(INJECT_AT, () => {
      for (const v of vectors) host.fire(v.irq);
    });
    expect(vcpu.run().reason).toBe(KVM_EXIT_INTR);
    const unexpected = taken.filter((t) => t.intid >= 8192).map((t) => t.intid);
    expect(unexpected).toEqual(b === "linux-6.6" ? [VLPI] : []);
    expect(host.doorbells).toBe(b === "linux-6.6" ? 1 : 0);
  });
});
