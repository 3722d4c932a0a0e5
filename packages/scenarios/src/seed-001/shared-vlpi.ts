/**
 * Seed 001, "[RFC PATCH] KVM: arm/arm64: GICv4: Support shared VLPI"
 * (Kunkun Jiang and Marc Zyngier, kvmarm, November 2023; Linux 6.16's fix:
 * commits fc4dafe87b93, 05b9405f2fa1), run once under one vgic-v4 behaviour of @irqlab/kvm.
 *
 * A passthrough virtio-scsi function has 7 MSI-X vectors; VFIO requests all
 * of them as host LPIs. The old guest driver (CentOS 7.6, 4.19) uses entry 0
 * for config and writes the same MSI data into entries 1–6 (one vector shared
 * by the queues): the vITS translates data 0 to vLPI 8192 and data 1 to vLPI
 * 8193. QEMU assigns one irqfd per entry (kvm_irqfd_assign); each irqfd meets
 * its VFIO producer in the irq bypass manager
 * (kvm_arch_irq_bypass_add_producer → kvm_vgic_v4_set_forwarding →
 * its_map_vlpi), so KVM is asked to forward all seven host interrupts — six
 * onto one vLPI. Then the guest reboots: QEMU deassigns the irqfds
 * (kvm_arch_irq_bypass_del_producer → kvm_vgic_v4_unset_forwarding) and
 * resets the vITS (KVM_DEV_ARM_ITS_CTRL_RESET). The firmware that runs next
 * has mapped no LPI; a vLPI still arriving is one it does not expect and
 * cannot stop.
 *
 * Everything reported is counted on the run: the forwarding's own counters
 * (its_map_vlpi / its_unmap_vlpi calls, WARN_ONs, refusals, 1:1 violations),
 * the host GIC's forwarding state, where each vector's MSI lands, and what the
 * guest reads from ICV_IAR1_EL1.
 */

import { Gicv3, ICC_EOIR1_EL1, ICC_IAR1_EL1, ITS_MSI_DELIVERED_VIRTUAL, itsCommand } from "@irqlab/gic";
import {
  EventFd,
  HostGicv4,
  IrqBypassManager,
  KVM_DEV_ARM_ITS_CTRL_RESET,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_MSI_VALID_DEVID,
  enableVgicV4,
  vgicItsInjectMsi,
  type Gicv4Behaviour,
  type IrqBypassConsumer,
  type IrqBypassProducer,
  type KvmMsi,
  type VgicV4Forwarding,
  type Vm,
} from "@irqlab/kvm";
import type { EventQueue, Tracer } from "@irqlab/sim";
import { GUEST_ITS_TRANSLATER, GUEST_ITT, vitsGuestVm } from "./vits-guest-vm.js";

/** The guest's DeviceID for the function (its requester ID). */
export const SHARED_VLPI_DEVID = 0x10;
/** vLPI of the config vector (MSI data 0). */
export const SHARED_VLPI_CONFIG = 8192;
/** vLPI of the queue vector entries 1–6 share (MSI data 1). */
export const SHARED_VLPI_QUEUE = 8193;
/** MSI-X vectors of the passthrough function (the thread's virtio-scsi: entry0-6). */
export const SHARED_VLPI_VECTORS = 7;

/** What one run of the sequence measured. */
export interface SharedVlpiReport {
  readonly behaviour: Gicv4Behaviour;
  /** Host interrupts mapped onto a vLPI before the reset. */
  readonly forwardedBefore: number;
  /** Of the six shared vectors, how many were mapped onto vLPI 8193. */
  readonly sharedForwarded: number;
  /** Vector indexes KVM records as owning vLPI 8193 (irq->host_irq, or the RFC's list). */
  readonly ownersOfSharedVlpi: readonly number[];
  /** its_map_vlpi calls. */
  readonly mapCalls: number;
  /** its_unmap_vlpi calls. */
  readonly unmapCalls: number;
  /** WARN_ONs hit in kvm_vgic_v4_unset_forwarding. */
  readonly warns: number;
  /** set_forwarding calls that left the interrupt software-injected. */
  readonly refused: number;
  /** Host interrupts mapped onto a vLPI another host interrupt already owns (IHI 0069 §5.2.10). */
  readonly violations: number;
  /** Before the reset, one MSI per vector: delivered directly into the vPE. */
  readonly directBefore: number;
  /** Before the reset: delivered by the host handler → irqfd → vITS (software). */
  readonly softwareBefore: number;
  /** Interrupts the guest took (ICV_IAR1_EL1) for those seven MSIs; a vLPI pending twice is taken once. */
  readonly takenBefore: number;
  /** After the reset: host interrupts still mapped onto a vLPI. */
  readonly forwardedAfter: number;
  /** After the reset: vectors whose MSI still lands in the guest's vPE. */
  readonly firingAfter: number;
  /** After the reset: LPIs the firmware reads from ICV_IAR1_EL1 that it never configured. */
  readonly unexpectedAfter: number;
  /** The firmware gets interrupts it does not expect and cannot stop (no ITE of its own to DISCARD). */
  readonly guestHang: boolean;
}

interface AssignedIrqfd {
  readonly fd: EventFd;
  readonly consumer: IrqBypassConsumer;
  readonly waiter: (fd: EventFd) => void;
}

/** Where a run keeps time and records: the VM's event queue and tracer (both optional). */
export interface SharedVlpiClock {
  readonly queue?: EventQueue;
  readonly tracer?: Tracer | undefined;
}

/** Runs the thread's sequence under `behaviour`. Deterministic. */
export function runSharedVlpi(behaviour: Gicv4Behaviour, clock: SharedVlpiClock = {}): SharedVlpiReport {
  const { vm, gic, its, driver } = vitsGuestVm(clock);
  // The guest's ITS driver maps its device and the two vectors it uses.
  driver.enable();
  driver.submit(
    itsCommand.mapd(SHARED_VLPI_DEVID, GUEST_ITT, 2),
    itsCommand.mapc(0, 0),
    itsCommand.mapti(SHARED_VLPI_DEVID, 0, SHARED_VLPI_CONFIG, 0),
    itsCommand.mapti(SHARED_VLPI_DEVID, 1, SHARED_VLPI_QUEUE, 0),
  );
  const host = new HostGicv4({ vpes: 1 });
  const vectors = host.addDevice(1, SHARED_VLPI_VECTORS);
  const fwd = enableVgicV4(vm, { host, behaviour });
  fwd.vcpuLoad(0); // the vCPU runs: its vPE is resident
  let software = 0;
  const bypass = new IrqBypassManager();
  const irqfds = vectors.map((v, entry) => {
    // The guest's MSI-X table: entry 0 data 0, entries 1–6 data 1 (the thread's "massage.data").
    const r = route(entry === 0 ? 0 : 1);
    const fd = new EventFd();
    host.requestIrq(v.irq, () => {
      fd.signal(); // vfio_msihandler
    });
    const producer: IrqBypassProducer = { irq: v.irq };
    bypass.registerProducer(producer, fd); // VFIO_DEVICE_SET_IRQS
    return assignIrqfd(vm, fwd, bypass, fd, r, () => software++);
  });
  const forwardedBefore = vectors.filter((v) => host.isForwarded(v.irq)).length;
  const sharedForwarded = vectors.slice(1).filter((v) => host.isForwarded(v.irq)).length;
  const ownersOfSharedVlpi = fwd.hostIrqsOf(SHARED_VLPI_QUEUE).map((h) => vectors.findIndex((v) => v.irq === h));
  // Each vector fires once; the guest takes what arrives.
  let direct = 0;
  for (const v of vectors) if (host.fire(v.irq) === ITS_MSI_DELIVERED_VIRTUAL) direct++;
  const takenBefore = takeAll(gic, () => true);
  // The guest reboots: QEMU deassigns every irqfd, then resets the vITS.
  for (const q of irqfds) deassignIrqfd(bypass, q);
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_ITS_CTRL_RESET });
  const forwardedAfter = vectors.filter((v) => host.isForwarded(v.irq)).length;
  let firingAfter = 0;
  for (const v of vectors) if (host.fire(v.irq) === ITS_MSI_DELIVERED_VIRTUAL) firingAfter++;
  // The firmware has configured no LPI: every LPI it reads is unexpected.
  const unexpectedAfter = takeAll(gic, (intid) => intid >= 8192);
  const s = fwd.stats;
  return {
    behaviour,
    forwardedBefore,
    sharedForwarded,
    ownersOfSharedVlpi,
    mapCalls: s.mapCalls,
    unmapCalls: s.unmapCalls,
    warns: s.warns,
    refused: s.refused,
    violations: s.violations,
    directBefore: direct,
    softwareBefore: software,
    takenBefore,
    forwardedAfter,
    firingAfter,
    unexpectedAfter,
    guestHang: forwardedAfter > 0 && unexpectedAfter > 0,
  };
}

/** KVM_IRQFD with an MSI route: the eventfd waiter (software injection) plus the bypass consumer. */
function assignIrqfd(vm: Vm, fwd: VgicV4Forwarding, bypass: IrqBypassManager, fd: EventFd, r: KvmMsi, onSoftware: () => void): AssignedIrqfd {
  const waiter = (f: EventFd): void => {
    f.drain();
    if (vgicItsInjectMsi(vm, r) === 1) onSoftware();
  };
  fd.addWaiter(waiter);
  const consumer: IrqBypassConsumer = {
    addProducer: (p) => {
      fwd.setForwarding(p.irq, r);
    },
    delProducer: (p) => {
      fwd.unsetForwarding(p.irq);
    },
  };
  bypass.registerConsumer(consumer, fd);
  return { fd, consumer, waiter };
}

/** KVM_IRQFD with KVM_IRQFD_FLAG_DEASSIGN: the waiter goes, the bypass consumer unregisters (del_producer). */
function deassignIrqfd(bypass: IrqBypassManager, q: AssignedIrqfd): void {
  q.fd.removeWaiter(q.waiter);
  bypass.unregisterConsumer(q.consumer);
}

/** Reads ICV_IAR1_EL1 until it is spurious (1020–1023), EOIing each; counts the INTIDs `count` selects. */
function takeAll(gic: Gicv3, count: (intid: number) => boolean): number {
  const hyp = gic.hyp[0]!;
  let n = 0;
  for (let i = 0; i < 64; i++) {
    const intid = hyp.readIcv(ICC_IAR1_EL1);
    if (intid >= 1020 && intid < 1024) break;
    hyp.writeIcv(ICC_EOIR1_EL1, intid);
    if (count(intid)) n++;
  }
  return n;
}

/** The MSI route of one MSI-X entry: the vITS doorbell, the function's DeviceID, the entry's data. */
function route(data: number): KvmMsi {
  return { addressLo: GUEST_ITS_TRANSLATER, addressHi: 0, data, flags: KVM_MSI_VALID_DEVID, devid: SHARED_VLPI_DEVID };
}
