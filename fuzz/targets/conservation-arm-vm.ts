/**
 * The arm64 VM of the conservation target, built through the KVM API as
 * QEMU's virt machine builds it: guest RAM, the in-kernel vgic-v3
 * (distributor and redistributor addresses, KVM_DEV_ARM_VGIC_CTRL_INIT), then
 * a vITS (KVM_DEV_TYPE_ARM_VGIC_ITS at VIRT_GIC_ITS); vCPUs run the guest of
 * conservation-arm-guest.ts.
 *
 * Interrupts and how each is raised:
 * - edge SPIs 40..47: KVM_IRQ_LINE pulses, irqfd on the default routing, irqfd
 *   on explicit irqchip routes;
 * - LPIs 8192..8195 (EventIDs 0..3, collections round-robin over the vCPUs):
 *   KVM_SIGNAL_MSI and irqfd on MSI routes, both with KVM_MSI_VALID_DEVID,
 *   translated by the vITS (vgic_its_inject_msi);
 * - LPIs 8196..8199 (EventIDs 4..7, collection 0): the guest's own INT
 *   commands on the vITS command queue (vgic_its_cmd_handle_int), issued by
 *   vCPU 0 with interrupts masked, so nothing acknowledges the LPI between
 *   the guest's report of the raise and the command.
 * LPIs are raised only once the guest's driver has mapped them (a device may
 * not send MSIs before its driver programs it; an MSI the ITS cannot
 * translate is dropped, IHI 0069H §5.2).
 */

import {
  EventFd,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_TYPE_ARM_VGIC_ITS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_IRQ_ROUTING_IRQCHIP,
  KVM_IRQ_ROUTING_MSI,
  KVM_MSI_VALID_DEVID,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  VgicV3,
  type Kvm,
  type RoutingEntry,
} from "@irqlab/kvm";
import { GIC_V3_REDIST_SIZE, GITS_TRANSLATER } from "@irqlab/gic";
import {
  ARM_RAM_SIZE, FIRST_LPI, ITS_DEVICE_ID, MAILBOX_ENTRIES, MAILBOX_HEAD, MAILBOX_READY, MAILBOX_RING, MAILBOX_TAIL,
  armConservationGuest,
} from "./conservation-arm-guest.js";
import { countRaise, type Account, type ConservedSource, type ConservedVm, type Injection } from "./conservation-vms.js";

/** QEMU virt: VIRT_GIC_DIST, VIRT_GIC_ITS, VIRT_GIC_REDIST, VIRT_MEM. */
const DIST = 0x0800_0000;
const ITS = 0x0808_0000;
const REDIST = 0x080a_0000;
const RAM = 0x4000_0000;

const SPIS = [40, 41, 42, 43, 44, 45, 46, 47];
/** EventIDs raised by MSIs, and by the guest's INT commands. */
const MSI_EVENTS = [0, 1, 2, 3];
const INT_EVENTS = [4, 5, 6, 7];
const EVENTS = MSI_EVENTS.length + INT_EVENTS.length;
/** GSIs of the explicit irqchip routes (100 + SPI) and of the MSI routes (300 + EventID). */
const ROUTE_GSI = 100;
const MSI_GSI = 300;

/** An arm64 VM with a vgic-v3, a vITS and `vcpuCount` vCPUs; `account` is told of every raise before it happens. */
export function armVm(kvm: Kvm, vcpuCount: number, account: Account): ConservedVm {
  const vm = kvm.createVm();
  const vcpus = Array.from({ length: vcpuCount }, (_, i) => {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    return v;
  });
  vm.setUserMemoryRegion({ slot: 0, guestPhysAddr: RAM, memorySize: ARM_RAM_SIZE });
  const dev = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: DIST });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: REDIST });
  dev.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  // QEMU kvm_arm_its_realize(): create, "explicit init of the ITS", then the base address.
  const its = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: ITS });
  const gic = VgicV3.of(vm)!.gic!;

  const collectionOf = (event: number): number => (INT_EVENTS.includes(event) ? 0 : event % vcpuCount);
  const lpi = (event: number): number => FIRST_LPI + event;
  const doorbell = { addressLo: ITS + GITS_TRANSLATER, addressHi: 0, flags: KVM_MSI_VALID_DEVID, devid: ITS_DEVICE_ID };
  // GSI g → pin g → SPI 32 + g on the default routing (vgic-irqfd.c); explicit irqchip and MSI routes beside it.
  const routes: RoutingEntry[] = [
    ...SPIS.map((id): RoutingEntry => ({ gsi: id - 32, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: id - 32 })),
    ...SPIS.map((id): RoutingEntry => ({ gsi: ROUTE_GSI + id, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: id - 32 })),
    ...MSI_EVENTS.map((e): RoutingEntry => ({ gsi: MSI_GSI + e, type: KVM_IRQ_ROUTING_MSI, ...doorbell, data: e })),
  ];
  vm.setGsiRouting(routes);
  const fds = new Map<number, EventFd>();
  for (const gsi of [...SPIS.map((id) => id - 32), ...SPIS.map((id) => ROUTE_GSI + id), ...MSI_EVENTS.map((e) => MSI_GSI + e)]) {
    const fd = new EventFd();
    vm.irqfd({ fd, gsi });
    fds.set(gsi, fd);
  }

  const taken: number[] = [];
  const raised = new Map<Injection, number>();
  const layout = { dist: DIST, redist: REDIST, redistStride: GIC_V3_REDIST_SIZE, its: ITS, ram: RAM };
  for (const v of vcpus) {
    v.loadGuest(
      armConservationGuest({
        layout,
        vcpus: vcpuCount,
        vcpu: v.vcpuId,
        spis: SPIS,
        events: EVENTS,
        collectionOf,
        onAcknowledge: (intid) => taken.push(intid),
        onIssue: (event) => {
          account(lpi(event));
          countRaise(raised, "its-int");
        },
      }),
    );
  }

  const mem = vm.memory;
  const ready = (): boolean => mem.readU32(RAM + MAILBOX_READY) === 1;
  const backlog = (): number => (mem.readU32(RAM + MAILBOX_HEAD) - mem.readU32(RAM + MAILBOX_TAIL)) >>> 0;
  const sources: ConservedSource[] = [
    ...SPIS.map((id): ConservedSource => ({ id, injections: ["line", "irqfd", "route"] })),
    ...MSI_EVENTS.map((e): ConservedSource => ({ id: lpi(e), injections: ["msi", "msi-irqfd"] })),
    ...INT_EVENTS.map((e): ConservedSource => ({ id: lpi(e), injections: ["its-int"] })),
  ];
  return {
    vm,
    vcpus,
    sources,
    taken,
    raise(id, how) {
      if (id < FIRST_LPI) {
        account(id);
        countRaise(raised, how);
        if (how === "line") {
          // KVM_ARM_IRQ_TYPE_SPI << 24 | intid: an edge is a pulse.
          vm.irqLine((1 << 24) | id, 1);
          vm.irqLine((1 << 24) | id, 0);
        } else fds.get(how === "irqfd" ? id - 32 : ROUTE_GSI + id)!.signal();
        return;
      }
      if (!ready()) return;
      const event = id - FIRST_LPI;
      if (how === "its-int") {
        // Ask the guest; a full ring drops the request (nothing was raised).
        const head = mem.readU32(RAM + MAILBOX_HEAD);
        if (backlog() >= MAILBOX_ENTRIES) return;
        mem.writeU32(RAM + MAILBOX_RING + 4 * (head % MAILBOX_ENTRIES), event);
        mem.writeU32(RAM + MAILBOX_HEAD, (head + 1) >>> 0);
        return;
      }
      account(id);
      countRaise(raised, how);
      if (how === "msi") vm.signalMsi({ ...doorbell, data: event });
      else fds.get(MSI_GSI + event)!.signal();
    },
    pending: (id) => (id < FIRST_LPI ? gic.irqs.status(0, id).pending : gic.isLpiPending(collectionOf(id - FIRST_LPI), id)),
    backlog,
    raised,
  };
}
