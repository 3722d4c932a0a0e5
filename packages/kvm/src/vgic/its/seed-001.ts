/**
 * Seed 001, "[RFC PATCH] KVM: arm/arm64: GICv4: Support shared VLPI"
 * (Kunkun Jiang, Nov 2023; reference/gic.md §4a), as a runnable scenario.
 *
 * A passthrough virtio-scsi function has 7 MSI-X vectors; VFIO requests all
 * of them as host LPIs. The old guest driver uses entry 0 for config and
 * writes the same MSI data into entries 1–6 (one vector shared by the
 * queues): the vITS translates data 0 to vLPI 8192 and data 1 to vLPI 8193.
 * QEMU assigns one irqfd per entry; each irqfd meets its VFIO producer in the
 * irq bypass manager, so KVM is asked to forward all seven host interrupts —
 * six of them onto one vLPI. Then the guest reboots: QEMU deassigns the
 * irqfds (unset_forwarding for each host irq) and resets the vITS
 * (KVM_DEV_ARM_ITS_CTRL_RESET). The firmware that runs next has mapped no LPI;
 * any vLPI still arriving is one it does not expect and cannot stop.
 *
 * {@link runSeed001} runs this under one vgic-v4 behaviour and reports what
 * the thread argues about: how many host interrupts were forwarded, the WARNs,
 * the 1:1 violations, how many host interrupts still fire into the guest
 * after the reset, and whether the guest would hang.
 */

import {
  Gicv3,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ITS_MSI_DELIVERED_VIRTUAL,
  itsCommand,
} from "@irqlab/gic";
import type { Device } from "../../device.js";
import type { KvmMsi } from "../../irqchip.js";
import { EventFd } from "../../irqfd/eventfd.js";
import { KVM_MSI_VALID_DEVID } from "../../irqfd/gsi-routing.js";
import { IrqBypassManager, type IrqBypassConsumer, type IrqBypassProducer } from "../../irqfd/irq-bypass.js";
import type { Vm } from "../../vm.js";
import { KVM_DEV_ARM_ITS_CTRL_RESET, KVM_DEV_ARM_VGIC_GRP_CTRL } from "../vgic-uapi.js";
import { HostGicv4 } from "./host-gicv4.js";
import { enableVgicV4, type Gicv4Behaviour, type VgicV4Forwarding } from "./vgic-v4-forwarding.js";
import { vgicItsInjectMsi } from "./vits-msi.js";
import { ITS_BASE, ITT, vmWithVits } from "./vits-rig.js";

/** The guest's DeviceID for the function (its requester ID). */
export const SEED001_GUEST_DEVID = 0x10;
/** The vLPIs the guest maps: config (MSI data 0) and the shared queue vector (data 1). */
export const SEED001_CONFIG_VLPI = 8192;
export const SEED001_QUEUE_VLPI = 8193;

/** What {@link runSeed001} reports. */
export interface Seed001Report {
  readonly behaviour: Gicv4Behaviour;
  /** Host interrupts mapped onto a vLPI before the reset (all 7 vectors). */
  readonly forwardedBefore: number;
  /** Of the six shared vectors, how many were mapped onto vLPI 8193. */
  readonly sharedForwarded: number;
  /** What KVM records as owning vLPI 8193 (irq->host_irq, or the RFC's list). */
  readonly ownersOfSharedVlpi: readonly number[];
  /** its_map_vlpi calls, unmaps, failed unmaps, WARNs, silently refused forwardings, 1:1 violations. */
  readonly mapCalls: number;
  readonly unmapCalls: number;
  readonly warns: number;
  readonly refused: number;
  readonly violations: number;
  /** Before the reset, one MSI per vector: delivered directly into the vPE, or by the host handler → irqfd (software). */
  readonly directBefore: number;
  readonly softwareBefore: number;
  /** Interrupts the guest took (ICV_IAR1) for those seven MSIs; a vLPI pending twice is taken once. */
  readonly takenBefore: number;
  /** After the reset: host interrupts still mapped onto a vLPI. */
  readonly forwardedAfter: number;
  /** After the reset: vectors whose MSI still lands in the guest's vPE. */
  readonly firingAfter: number;
  /** After the reset: interrupts the firmware reads from ICV_IAR1 that it never configured. */
  readonly unexpectedAfter: number;
  /** The guest gets interrupts it no longer expects and cannot stop (no ITE of its own to DISCARD). */
  readonly guestHang: boolean;
}

interface Irqfd {
  readonly fd: EventFd;
  readonly consumer: IrqBypassConsumer;
  readonly waiter: (fd: EventFd) => void;
}

/** Runs seed 001's sequence under `behaviour`. Deterministic. */
export function runSeed001(behaviour: Gicv4Behaviour): Seed001Report {
  const { vm, gic, its } = guestVm();
  const host = new HostGicv4({ vpes: 1 });
  const vectors = host.addDevice(1, 7);
  const fwd = enableVgicV4(vm, { host, behaviour });
  fwd.vcpuLoad(0); // the vCPU runs: its vPE is resident
  const routes = vectors.map((_, entry) => route(entry === 0 ? 0 : 1));
  let software = 0;
  const bypass = new IrqBypassManager();
  const irqfds: Irqfd[] = vectors.map((v, i) => {
    const r = routes[i]!;
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
  const ownersOfSharedVlpi = fwd.hostIrqsOf(SEED001_QUEUE_VLPI).map((h) => vectors.findIndex((v) => v.irq === h));
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

/** KVM_IRQFD with an MSI route: eventfd waiter (software injection) plus the bypass consumer. */
function assignIrqfd(vm: Vm, fwd: VgicV4Forwarding, bypass: IrqBypassManager, fd: EventFd, r: KvmMsi, onSoftware: () => void): Irqfd {
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

function deassignIrqfd(bypass: IrqBypassManager, q: Irqfd): void {
  q.fd.removeWaiter(q.waiter);
  bypass.unregisterConsumer(q.consumer);
}

/** Reads ICV_IAR1 until it is spurious, EOIing each; counts the INTIDs `count` selects. */
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

function route(data: number): KvmMsi {
  return { addressLo: ITS_BASE + 0x10040, addressHi: 0, data, flags: KVM_MSI_VALID_DEVID, devid: SEED001_GUEST_DEVID };
}

/** One vCPU with a Gicv3 standing in for the vgic-v3 device, and the guest's ITS set up as its driver would. */
function guestVm(): { vm: Vm; gic: Gicv3; its: Device } {
  const { vm, gic, fd, driver } = vmWithVits(1);
  driver.enable();
  driver.submit(
    itsCommand.mapd(SEED001_GUEST_DEVID, ITT, 2),
    itsCommand.mapc(0, 0),
    itsCommand.mapti(SEED001_GUEST_DEVID, 0, SEED001_CONFIG_VLPI, 0),
    itsCommand.mapti(SEED001_GUEST_DEVID, 1, SEED001_QUEUE_VLPI, 0),
  );
  return { vm, gic, its: fd };
}
