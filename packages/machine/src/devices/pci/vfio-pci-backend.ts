/**
 * The seam between a vfio-pci function (vfio-pci.ts) and the machine: the
 * KVM and VFIO calls QEMU hw/vfio/pci.c makes for MSI-X vectors, as an
 * interface the machine implements (KVM_SET_GSI_ROUTING, KVM_IRQFD, the
 * host's VFIO_DEVICE_SET_IRQS and IRQ-bypass producers), and the layout a
 * passed-through function is described by.
 */

import type { MmioDevice } from "@irqlab/sim";
import type { DeviceTraceOptions } from "../device-io.js";
import type { MsiMessage, MsiSink } from "../interrupt.js";
import type { PciBarKind, PciFunctionIdentity } from "./pci-function.js";

/** What VFIO is told to signal for a host vector (VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER). */
export type VfioTrigger =
  /** The eventfd of the vector's KVM irqfd: KVM injects, or the IRQ-bypass producer forwards. */
  | "irqfd"
  /** QEMU's own eventfd (vfio_msi_interrupt): the MSI-X emulation decides. */
  | "userspace"
  /** fd −1: the host vector is not enabled. */
  | "none";

/**
 * The KVM and VFIO side effects of a vfio-pci function's MSI-X vectors,
 * implemented by the machine.
 */
export interface MsiVectorBackend {
  /**
   * vfio_add_kvm_msi_virq + vfio_connect_kvm_msi_virq: a GSI routed to
   * `msg` (kvm_irqchip_add_msi_route, KVM_SET_GSI_ROUTING, devid =
   * `requesterId` with KVM_MSI_VALID_DEVID on arm64) and an irqfd bound to
   * it (KVM_IRQFD). `msg` is reused: copy it.
   */
  addRoute(vector: number, msg: MsiMessage, requesterId: number): void;
  /** vfio_update_kvm_msi_virq: kvm_irqchip_update_msi_route + kvm_irqchip_commit_routes. */
  updateRoute(vector: number, msg: MsiMessage, requesterId: number): void;
  /** vfio_remove_kvm_msi_virq: KVM_IRQFD with DEASSIGN, then the GSI released. */
  removeRoute(vector: number): void;
  /**
   * VFIO_DEVICE_SET_IRQS on VFIO_PCI_MSIX_IRQ_INDEX for one vector: what host
   * vector `vector` signals from now on. Each call re-registers the host
   * vector's IRQ-bypass producer, even with the same trigger. A call while
   * the index is disabled first enables MSI-X on the host function.
   */
  setTrigger(vector: number, trigger: VfioTrigger): void;
  /** vfio_disable_irqindex(MSI-X): MSI-X disabled on the host function, every producer gone. */
  disableIndex(): void;
  /** Host vector `vector` fired while VFIO signals its irqfd. */
  signalIrqfd(vector: number): void;
}

/** One memory BAR of the passed-through function. */
export interface VfioPciBar {
  readonly index: number;
  readonly size: number;
  /** Default "mem32". */
  readonly kind?: PciBarKind;
  readonly prefetchable?: boolean;
  /** The device's registers in this BAR (read 0 / ignored if omitted). */
  readonly device?: MmioDevice;
}

/** Where the function's MSI-X capability, table and PBA are. */
export interface VfioPciMsixLayout {
  readonly vectors: number;
  readonly tableBar: number;
  readonly tableOffset: number;
  readonly pbaBar: number;
  readonly pbaOffset: number;
  /** Capability offset (0: first free). */
  readonly capOffset?: number;
}

/** The passed-through function's identity and layout (what VFIO reads from the device). */
export interface VfioPciLayout extends PciFunctionIdentity {
  readonly bars: readonly VfioPciBar[];
  readonly msix: VfioPciMsixLayout;
  /** Offset of the PCI Express capability (0: first free). */
  readonly pcieCapOffset?: number;
}

/** Construction options of a {@link VfioPciFunction}. */
export interface VfioPciOptions extends VfioPciLayout, DeviceTraceOptions {
  readonly backend: MsiVectorBackend;
  /** Messages QEMU sends itself (the userspace path: msix_notify → KVM_SIGNAL_MSI). */
  readonly sink: MsiSink;
  /** Host supports dynamic MSI-X allocation (no VFIO_IRQ_INFO_NORESIZE; default false). */
  readonly dynamicAllocation?: boolean;
}

/**
 * The virtio-scsi function of seed 001 (virtio 0.9.5 transitional device ID
 * 0x1004, subsystem device 8 = SCSI host), with 7 MSI-X vectors: config +
 * 6 request queues. BAR1 holds the table (0x000) and PBA (0x800) as QEMU's
 * virtio-pci lays them out (msix_init_exclusive_bar); BAR4 is the 16 KiB
 * modern virtio region. The legacy I/O BAR0 is not modelled.
 */
export const VIRTIO_SCSI_PCI_LAYOUT: VfioPciLayout = {
  vendorId: 0x1af4,
  deviceId: 0x1004,
  revision: 0,
  classCode: 0x010000,
  subsystemVendorId: 0x1af4,
  subsystemId: 0x0008,
  bars: [
    { index: 1, size: 0x1000, kind: "mem32" },
    { index: 4, size: 0x4000, kind: "mem64", prefetchable: true },
  ],
  msix: { vectors: 7, tableBar: 1, tableOffset: 0, pbaBar: 1, pbaOffset: 0x800, capOffset: 0x80 },
  pcieCapOffset: 0x40,
};

/** What QEMU and the host hold for one vector (for tests and traces). */
export interface VfioVectorInfo {
  /** VFIOMSIVector.use. */
  readonly use: boolean;
  /** A KVM route + irqfd exists (virq >= 0). */
  readonly routed: boolean;
  /** What VFIO signals for the host vector. */
  readonly trigger: VfioTrigger;
  /** Bit in vdev->msix->pending (fired while masked). */
  readonly pending: boolean;
  /** Bit in the physical device's PBA (fired while not enabled on the host). */
  readonly hostPending: boolean;
}

/** Plain snapshot of the VFIO side (the configuration space and MSI-X have their own). */
export interface VfioPciState {
  readonly version: 1;
  readonly msixEnabled: boolean;
  readonly nrVectors: number;
  readonly hostIndexEnabled: boolean;
  readonly pbaEmulated: boolean;
  readonly vectors: readonly VfioVectorInfo[];
}
