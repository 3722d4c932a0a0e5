/**
 * The GSI routing table of KVM_SET_GSI_ROUTING (virt/kvm/irqchip.c
 * kvm_set_irq_routing, setup_routing_entry; arm64 vgic-irqfd.c and RISC-V
 * vm.c kvm_set_routing_entry). A GSI names what an irqfd injects: a pin of
 * the in-kernel irqchip (on arm64 pin p is SPI p + 32) or an MSI (on arm64
 * translated by the vITS, with a DeviceID when KVM_MSI_VALID_DEVID is set).
 *
 * Validation and errnos as Linux: flags of the whole table non-zero, more than
 * KVM_MAX_IRQ_ROUTES entries, a GSI ≥ KVM_MAX_IRQ_ROUTES, flags on a non-MSI
 * entry or other than KVM_MSI_VALID_DEVID on an MSI, an unknown type, a pin ≥
 * KVM_IRQCHIP_NUM_PINS or an irqchip ≥ KVM_NR_IRQCHIPS, and a GSI mapped twice
 * unless to distinct irqchips: all EINVAL. The table is replaced as a whole.
 */

import { fail } from "../errno.js";
import type { KvmMsi } from "../irqchip.js";

/** KVM_IRQ_ROUTING_IRQCHIP (include/uapi/linux/kvm.h). */
export const KVM_IRQ_ROUTING_IRQCHIP = 1;
/** KVM_IRQ_ROUTING_MSI. */
export const KVM_IRQ_ROUTING_MSI = 2;
/** KVM_MSI_VALID_DEVID: the MSI carries a DeviceID (required by the GICv3 ITS). */
export const KVM_MSI_VALID_DEVID = 1 << 0;
/** KVM_MAX_IRQ_ROUTES (include/linux/kvm_host.h). */
export const KVM_MAX_IRQ_ROUTES = 4096;
/** KVM_NR_IRQCHIPS on arm64 and RISC-V. */
export const KVM_NR_IRQCHIPS = 1;
/** KVM_IRQCHIP_NUM_PINS on arm64: 1020 − 32, the SPI range (include/kvm/arm_vgic.h). */
export const KVM_IRQCHIP_NUM_PINS_ARM64 = 1020 - 32;
/** KVM_IRQCHIP_NUM_PINS on RISC-V (arch/riscv/include/asm/kvm_host.h). */
export const KVM_IRQCHIP_NUM_PINS_RISCV = 1024;

/** An irqchip route: GSI → pin of irqchip. */
export interface IrqchipRoute {
  readonly gsi: number;
  readonly type: typeof KVM_IRQ_ROUTING_IRQCHIP;
  readonly flags?: number;
  readonly irqchip: number;
  readonly pin: number;
}

/** An MSI route: GSI → (address, data[, devid]). */
export interface MsiRoute {
  readonly gsi: number;
  readonly type: typeof KVM_IRQ_ROUTING_MSI;
  readonly flags?: number;
  readonly addressLo: number;
  readonly addressHi: number;
  readonly data: number;
  readonly devid?: number;
}

/** One entry of struct kvm_irq_routing. */
export type RoutingEntry = IrqchipRoute | MsiRoute;

/**
 * An MSI route as the table keeps it: a frozen copy with flags and devid
 * filled in, which is the KvmMsi it delivers, as kvm_set_routing_entry copies
 * the message into the kernel's entry (so an injection builds nothing).
 */
export type StoredMsiRoute = Readonly<MsiRoute & KvmMsi>;
/** An entry as the table keeps it. */
export type StoredRoute = IrqchipRoute | StoredMsiRoute;

const IOCTL = "KVM_SET_GSI_ROUTING";

/**
 * The table's frozen copy of MSI route `e`, its fields written out in one
 * order: every stored route then has one object shape, where a spread copy
 * of a caller's object (whatever its fields and their order) had a shape of
 * its own once frozen: some 250 bytes of hidden class per route, and a
 * lookup through it for each field kvm_set_irq's injection reads.
 */
function storedMsiRoute(e: MsiRoute, flags: number): StoredMsiRoute {
  return Object.freeze({ gsi: e.gsi, type: e.type, flags, addressLo: e.addressLo, addressHi: e.addressHi, data: e.data, devid: e.devid ?? 0 });
}

/** EINVAL for entry `i` of a KVM_SET_GSI_ROUTING request. */
function badEntry(i: number, e: RoutingEntry, why: string): never {
  fail("EINVAL", IOCTL, `entry ${i} (gsi ${e.gsi}): ${why}`);
}

/** A validated, immutable routing table. */
export class GsiRoutingTable {
  readonly #byGsi = new Map<number, readonly StoredRoute[]>();
  /** The entries as given. */
  readonly entries: readonly RoutingEntry[];

  /**
   * Validates a KVM_SET_GSI_ROUTING request.
   * @param numPins KVM_IRQCHIP_NUM_PINS of the architecture
   * @throws KvmError EINVAL as Linux does
   */
  constructor(entries: readonly RoutingEntry[], numPins: number, tableFlags = 0) {
    if (tableFlags !== 0) fail("EINVAL", IOCTL, `routing flags 0x${tableFlags.toString(16)} must be 0`);
    if (entries.length > KVM_MAX_IRQ_ROUTES) fail("EINVAL", IOCTL, `${entries.length} entries exceed KVM_MAX_IRQ_ROUTES (${KVM_MAX_IRQ_ROUTES})`);
    // Indexed, and each message built only for the entry that fails: a VMM commits the whole table at
    // every change (QEMU's board alone routes 256 SPIs), so nothing is made per valid entry but its route.
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (!Number.isInteger(e.gsi) || e.gsi < 0 || e.gsi >= KVM_MAX_IRQ_ROUTES) badEntry(i, e, `gsi out of 0..${KVM_MAX_IRQ_ROUTES - 1}`);
      const flags = e.flags ?? 0;
      switch (e.type) {
        case KVM_IRQ_ROUTING_IRQCHIP:
          if (flags !== 0) badEntry(i, e, "irqchip routes take no flags");
          if (!(e.irqchip >= 0 && e.irqchip < KVM_NR_IRQCHIPS)) badEntry(i, e, `irqchip ${e.irqchip} ≥ KVM_NR_IRQCHIPS`);
          if (!(Number.isInteger(e.pin) && e.pin >= 0 && e.pin < numPins)) badEntry(i, e, `pin ${e.pin} ≥ KVM_IRQCHIP_NUM_PINS (${numPins})`);
          break;
        case KVM_IRQ_ROUTING_MSI:
          if ((flags & ~KVM_MSI_VALID_DEVID) !== 0) badEntry(i, e, `MSI flags 0x${flags.toString(16)} other than KVM_MSI_VALID_DEVID`);
          break;
        default:
          badEntry(i, e, `unknown routing type ${String((e as { type: unknown }).type)}`);
      }
      const existing = this.#byGsi.get(e.gsi);
      if (existing !== undefined) {
        for (const other of existing) {
          if (other.type !== KVM_IRQ_ROUTING_IRQCHIP || e.type !== KVM_IRQ_ROUTING_IRQCHIP || other.irqchip === e.irqchip) {
            badEntry(i, e, "gsi already routed (only distinct irqchips may share a GSI)");
          }
        }
      }
      const stored: StoredRoute = e.type === KVM_IRQ_ROUTING_MSI ? storedMsiRoute(e, flags) : e;
      this.#byGsi.set(e.gsi, existing === undefined ? [stored] : [...existing, stored]);
    }
    this.entries = entries;
  }

  /** The routes of `gsi` (empty when unrouted). */
  routes(gsi: number): readonly StoredRoute[] {
    return this.#byGsi.get(gsi) ?? [];
  }

  /**
   * The default table KVM installs at vgic init on arm64 (kvm_vgic_setup_default_irq_routing):
   * GSI n → irqchip 0 pin n for every SPI.
   */
  static defaultArm64(nrSpis: number): GsiRoutingTable {
    return new GsiRoutingTable(
      Array.from({ length: Math.min(nrSpis, KVM_IRQCHIP_NUM_PINS_ARM64) }, (_, n) => ({ gsi: n, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: n })),
      KVM_IRQCHIP_NUM_PINS_ARM64,
    );
  }
}
