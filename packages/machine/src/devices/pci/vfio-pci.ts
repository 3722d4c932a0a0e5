/**
 * A `vfio-pci` function: a passed-through PCI function whose MSI-X vectors
 * are host interrupts, with what QEMU hw/vfio/pci.c does about them:
 * vfio_pci_write_config (MSI-X enable/disable), vfio_msix_enable (vector
 * notifiers, batched KVM routes, vfio_enable_vectors /
 * vfio_enable_msix_no_vec), vfio_msix_vector_do_use / vfio_msix_vector_use,
 * vfio_msix_vector_release, vfio_add_kvm_msi_virq + vfio_connect_kvm_msi_virq,
 * vfio_update_kvm_msi_virq, vfio_remove_kvm_msi_virq, vfio_msix_disable,
 * vfio_msi_disable_common, vfio_msi_interrupt, vfio_pci_reset /
 * vfio_pci_pre_reset. QEMU's KVM and VFIO calls become calls on an injected
 * {@link MsiVectorBackend}; the machine implements it with
 * KVM_SET_GSI_ROUTING, KVM_IRQFD and the host's VFIO/IRQ-bypass producers.
 *
 * Per vector, while MSI-X is enabled on the guest side:
 * - Unmasked (the use notifier): the first time, the vector is marked in use
 *   (msix_vector_use). If it has no KVM route, one is created for its
 *   message with an irqfd bound to it (addRoute); if it has one, the route is
 *   updated to the current message (updateRoute) — this is how a guest
 *   reprograms an entry: mask, write, unmask. Then VFIO is told to signal
 *   the irqfd's eventfd for that host vector (setTrigger "irqfd"), which is
 *   what lets the host's IRQ-bypass producer meet KVM's irqfd consumer.
 *   Without dynamic MSI-X allocation on the host (VFIO_IRQ_INFO_NORESIZE set,
 *   the default here, as before Linux 6.5 added dynamic MSI-X to vfio-pci),
 *   a vector above the highest one enabled so far makes QEMU disable the
 *   whole index and enable vectors 0..n again, re-signalling every one.
 * - Masked (the release notifier): the route and irqfd stay; VFIO is told to
 *   signal QEMU's own eventfd instead (setTrigger "userspace"), so an
 *   interrupt goes through QEMU's MSI-X emulation, which sets the PBA bit
 *   and sends the message when the guest unmasks the vector.
 * - MSI-X disabled by the guest, or the device reset (vfio_pci_reset runs
 *   vfio_msix_disable while the config still shows MSI-X enabled): every
 *   unmasked vector is released by msix_unset_vector_notifiers, every used
 *   vector is released again and unused, the VFIO index is disabled
 *   (disableIndex), and every route with its irqfd is removed (removeRoute).
 *
 * {@link VfioPciFunction.hostInterrupt} fires host vector k as the host
 * (without GICv4 forwarding) would: to the irqfd (backend.signalIrqfd) when
 * VFIO signals the irqfd, into QEMU (vfio_msi_interrupt: PBA if masked, else
 * the message through the MSI-X emulation to the MsiSink) when it signals
 * QEMU's eventfd, and into the physical device's own PBA when the host
 * vector is not enabled (sent when it is). With MSI-X disabled on the host
 * the function cannot signal MSI-X at all and the interrupt is dropped. A
 * machine with a host ITS model that forwards vLPIs should deliver physical
 * interrupts itself and call {@link VfioPciFunction.userspaceInterrupt} when
 * QEMU's eventfd is signalled.
 *
 * Not modelled: the device's own registers (a BAR reads 0 unless given a
 * device), I/O BARs, the expansion ROM, MSI, INTx (pin 0 by default), and
 * QEMU's emulation of the rest of the config space (it is the given
 * identity, read-only beyond the capabilities).
 */

import { ConfigError, type MmioDevice } from "@irqlab/sim";
import type { MsiMessage } from "../interrupt.js";
import { qemuAccessRules, type QemuRegionOps } from "../qemu-memory.js";
import { Msix, type MsixVectorNotifiers } from "./msix.js";
import { PciBarRegion } from "./pci-bar.js";
import { PciFunction, rangesOverlap } from "./pci-function.js";
import * as R from "./pci-regs.js";
import type { MsiVectorBackend, VfioPciOptions, VfioPciState, VfioTrigger, VfioVectorInfo } from "./vfio-pci-backend.js";

const TRIGGER_NONE = 0;
const TRIGGER_USERSPACE = 1;
const TRIGGER_IRQFD = 2;
const TRIGGERS: readonly VfioTrigger[] = ["none", "userspace", "irqfd"];

const BACKGROUND_RULES = qemuAccessRules({ validMax: 8, implMax: 4 });

/** A passed-through PCI Express function with VFIO's MSI-X handling. */
export class VfioPciFunction extends PciFunction {
  readonly #msix: Msix;
  /** Host interrupts dropped because MSI-X was disabled on the host function. */
  droppedHostInterrupts = 0;
  readonly #backend: MsiVectorBackend;
  readonly #noresize: boolean;
  readonly #pbaRegion: PciBarRegion;
  readonly #use: Uint8Array;
  readonly #virq: Uint8Array;
  readonly #deferredRoute: Uint8Array;
  readonly #trigger: Uint8Array;
  readonly #pending: Uint8Array;
  readonly #hostPending: Uint8Array;
  readonly #notifiers: MsixVectorNotifiers;
  #msixOn = false;
  #nrVectors = 0;
  #defer = false;
  #hostIndexEnabled = false;

  /** @throws ConfigError for a bad layout. */
  constructor(options: VfioPciOptions) {
    super({ ...options, name: options.name ?? "vfio-pci", express: true, deviceSpecificWritable: false });
    this.#backend = options.backend;
    this.#noresize = !(options.dynamicAllocation ?? false);
    const m = options.msix;
    const n = m.vectors;
    let pbaRegion: PciBarRegion | undefined;
    for (const bar of options.bars) {
      const background = new VfioBarBackground(this, bar.index === m.pbaBar ? m.pbaOffset : -1, bar.device);
      const region = new PciBarRegion(bar.size, `${this.name}-bar${bar.index}`, this, background);
      this.registerBar(bar.index, bar.size, bar.kind ?? "mem32", region, bar.prefetchable ?? false);
      if (bar.index === m.pbaBar) pbaRegion = region;
    }
    if (pbaRegion === undefined) throw new ConfigError(`${this.name}: MSI-X PBA BAR${m.pbaBar} is not among the BARs`);
    this.#pbaRegion = pbaRegion;
    // vfio_add_std_cap adds capabilities from the end of the list: MSI-X, then PCIe at the head.
    this.#msix = new Msix(this, { ...m, sink: options.sink });
    this.#addPcieCap(options.pcieCapOffset ?? 0);
    // vfio_msix_setup: the PBA is the device's until a masked vector fires.
    pbaRegion.setSubregionEnabled(this.#msix.pbaOps, false);
    this.#use = new Uint8Array(n);
    this.#virq = new Uint8Array(n);
    this.#deferredRoute = new Uint8Array(n);
    this.#trigger = new Uint8Array(n);
    this.#pending = new Uint8Array(n);
    this.#hostPending = new Uint8Array(n);
    this.#notifiers = {
      use: (vector, msg) => {
        this.#doUse(vector, msg);
      },
      release: (vector) => {
        this.#release(vector);
      },
    };
  }

  /** The function's MSI-X capability, table and PBA. */
  override get msix(): Msix {
    return this.#msix;
  }

  /** The PBA bit of `vector` in the physical device (what the PBA reads while QEMU does not emulate it). */
  hostPbaBit(vector: number): boolean {
    return this.#hostPending[vector] === 1;
  }

  /** State of `vector` on the QEMU and host side. */
  vectorInfo(vector: number): VfioVectorInfo {
    return {
      use: this.#use[vector] === 1,
      routed: this.#virq[vector] === 1,
      trigger: TRIGGERS[this.#trigger[vector]!]!,
      pending: this.#pending[vector] === 1,
      hostPending: this.#hostPending[vector] === 1,
    };
  }

  /**
   * Host vector `vector` of the physical function fires (see the module doc).
   * @throws ConfigError if the function has no such vector.
   */
  hostInterrupt(vector: number): void {
    if (!Number.isInteger(vector) || vector < 0 || vector >= this.msix.vectors) {
      throw new ConfigError(`${this.name}: host vector ${vector} is not in 0..${this.msix.vectors - 1}`);
    }
    if (!this.#hostIndexEnabled) {
      this.droppedHostInterrupts++;
      return;
    }
    const t = this.#trigger[vector]!;
    if (t === TRIGGER_IRQFD) this.#backend.signalIrqfd(vector);
    else if (t === TRIGGER_USERSPACE) this.userspaceInterrupt(vector);
    else this.#hostPending[vector] = 1;
  }

  /**
   * vfio_msi_interrupt(): QEMU's eventfd for `vector` was signalled. A
   * masked vector turns on PBA emulation; then msix_notify (PBA bit or the
   * message to the sink).
   */
  userspaceInterrupt(vector: number): void {
    if (!this.#msixOn) return;
    const msix = this.msix;
    if (msix.isMasked(vector)) {
      this.#pending[vector] = 1;
      this.#pbaRegion.setSubregionEnabled(msix.pbaOps, true);
    }
    msix.notify(vector);
  }

  /** vfio_pci_write_config(): MSI-X enable/disable transitions; everything else as the PCI core. */
  override configWrite(addr: number, value: number, len: number): void {
    const msix = this.msix;
    if (!rangesOverlap(addr, len, msix.cap, R.MSIX_CAP_LENGTH)) {
      this.defaultConfigWrite(addr, value, len);
      return;
    }
    const was = msix.enabled;
    this.defaultConfigWrite(addr, value, len);
    const is = msix.enabled;
    if (!was && is) this.#msixEnable();
    else if (was && !is) this.#msixDisable();
  }

  /**
   * vfio_pci_reset() → vfio_pci_pre_reset(): interrupts torn down, then
   * I/O, memory, bus mastering and INTx-disable cleared through the config
   * write path (unmapping the BARs). The PCI core's reset follows in
   * {@link busReset}.
   */
  override deviceReset(): void {
    this.#disableInterrupts();
    const cmd = this.configRead(R.PCI_COMMAND, 2) & ~(R.PCI_COMMAND_IO | R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER | R.PCI_COMMAND_INTX_DISABLE);
    this.configWrite(R.PCI_COMMAND, cmd, 2);
  }

  /** Plain copy of the VFIO-side state. */
  vfioState(): VfioPciState {
    const vectors: VfioVectorInfo[] = [];
    for (let v = 0; v < this.msix.vectors; v++) vectors.push(this.vectorInfo(v));
    return {
      version: 1,
      msixEnabled: this.#msixOn,
      nrVectors: this.#nrVectors,
      hostIndexEnabled: this.#hostIndexEnabled,
      pbaEmulated: this.#pbaRegion.subregionEnabled(this.msix.pbaOps),
      vectors,
    };
  }

  /** Host PBA word `index` (bits of vectors 32·index … 32·index + 31). */
  hostPbaWord(index: number): number {
    let w = 0;
    const n = this.msix.vectors;
    for (let b = 0; b < 32; b++) {
      const v = index * 32 + b;
      if (v < n && this.#hostPending[v] === 1) w |= 1 << b;
    }
    return w >>> 0;
  }

  // ---- vfio_msix_* ----

  #msixEnable(): void {
    this.#disableInterrupts();
    this.#use.fill(0);
    this.#virq.fill(0);
    this.#deferredRoute.fill(0);
    this.#msixOn = true;
    // Deferring KVM route commits while the notifiers call use for every unmasked vector.
    this.#defer = true;
    this.msix.setVectorNotifiers(this.#notifiers);
    this.#defer = false;
    const msix = this.msix;
    for (let v = 0; v < this.#nrVectors; v++) {
      if (this.#deferredRoute[v] === 1) {
        this.#deferredRoute[v] = 0;
        this.#backend.addRoute(v, msix.message(v), this.requesterId);
      }
    }
    if (this.#nrVectors !== 0) this.#enableVectors();
    else this.#enableMsixNoVec();
  }

  #msixDisable(): void {
    const msix = this.msix;
    msix.unsetVectorNotifiers();
    // "MSI-X will only release vectors if MSI-X is still enabled on the device": release the rest here.
    for (let v = 0; v < this.#nrVectors; v++) {
      if (this.#use[v] === 1) {
        this.#release(v);
        msix.vectorUnuse(v);
      }
    }
    this.#disableIndex();
    // vfio_msi_disable_common()
    for (let v = 0; v < this.#nrVectors; v++) {
      if (this.#use[v] === 1 && this.#virq[v] === 1) {
        this.#virq[v] = 0;
        this.#backend.removeRoute(v);
      }
    }
    this.#use.fill(0);
    this.#nrVectors = 0;
    this.#msixOn = false;
    this.#pending.fill(0);
  }

  #disableInterrupts(): void {
    if (this.#msixOn) this.#msixDisable();
  }

  /** vfio_msix_vector_do_use() with a message (the use notifier). */
  #doUse(vector: number, msg: MsiMessage): void {
    if (this.#use[vector] === 0) {
      this.#use[vector] = 1;
      this.#virq[vector] = 0;
      this.msix.vectorUse(vector);
    }
    if (this.#virq[vector] === 1) {
      if (this.#deferredRoute[vector] === 0) this.#backend.updateRoute(vector, msg, this.requesterId);
    } else {
      this.#virq[vector] = 1;
      if (this.#defer) this.#deferredRoute[vector] = 1;
      else this.#backend.addRoute(vector, msg, this.requesterId);
    }
    const resizing = this.#nrVectors < vector + 1;
    if (resizing) this.#nrVectors = vector + 1;
    if (!this.#defer) {
      if (this.#noresize && resizing) {
        this.#disableIndex();
        this.#enableVectors();
      } else {
        this.#setTrigger(vector, this.#virq[vector] === 1 ? TRIGGER_IRQFD : TRIGGER_USERSPACE);
      }
    }
    // Disable PBA emulation when nothing more is pending.
    this.#pending[vector] = 0;
    let any = false;
    for (let v = 0; v < this.#nrVectors; v++) if (this.#pending[v] === 1) any = true;
    if (!any) this.#pbaRegion.setSubregionEnabled(this.msix.pbaOps, false);
  }

  /** vfio_msix_vector_release(): keep the KVM route, signal QEMU instead. */
  #release(vector: number): void {
    if (this.#virq[vector] === 1) this.#setTrigger(vector, TRIGGER_USERSPACE);
  }

  /** vfio_enable_vectors(): signals for vectors 0..nr_vectors − 1. */
  #enableVectors(): void {
    if (!this.#noresize) this.#enableMsixNoVec();
    const msix = this.msix;
    for (let v = 0; v < this.#nrVectors; v++) {
      let t = TRIGGER_NONE;
      if (this.#use[v] === 1) t = this.#virq[v] === 0 || msix.isMasked(v) ? TRIGGER_USERSPACE : TRIGGER_IRQFD;
      this.#setTrigger(v, t);
    }
  }

  /** vfio_enable_msix_no_vec(): MSI-X enabled on the host with vector 0 at fd −1. */
  #enableMsixNoVec(): void {
    this.#backend.setTrigger(0, "none");
    this.#trigger[0] = TRIGGER_NONE;
    this.#hostIndexEnabled = true;
  }

  #setTrigger(vector: number, t: number): void {
    // fd −1 on a vector without a handler is a no-op in the kernel (vfio_msi_set_vector_signal).
    if (t === TRIGGER_NONE && this.#trigger[vector] === TRIGGER_NONE && this.#hostIndexEnabled) return;
    this.#backend.setTrigger(vector, TRIGGERS[t]!);
    this.#trigger[vector] = t;
    this.#hostIndexEnabled = true;
    // Enabling the host vector unmasks it: a message latched in the device's PBA is sent now.
    if (t !== TRIGGER_NONE && this.#hostPending[vector] === 1) {
      this.#hostPending[vector] = 0;
      this.hostInterrupt(vector);
    }
  }

  #disableIndex(): void {
    this.#backend.disableIndex();
    this.#trigger.fill(TRIGGER_NONE);
    this.#hostPending.fill(0);
    this.#hostIndexEnabled = false;
  }

  /** vfio_setup_pcie_cap() on a root bus: the endpoint becomes a Root Complex Integrated Endpoint. */
  #addPcieCap(offset: number): void {
    const pos = this.addCapability(R.PCI_CAP_ID_EXP, offset, R.PCI_EXP_VER2_SIZEOF);
    this.setWord(pos + R.PCI_EXP_FLAGS, R.PCI_EXP_FLAGS_VER2 | (R.PCI_EXP_TYPE_RC_END << R.PCI_EXP_FLAGS_TYPE_SHIFT));
    this.setLong(pos + R.PCI_EXP_DEVCAP, R.PCI_EXP_DEVCAP_RBER | R.PCI_EXP_DEVCAP_FLR);
    // Device Control at its PCIe default: Relaxed Ordering, No Snoop, Max_Read_Request_Size 512 B.
    this.setWord(pos + R.PCI_EXP_DEVCTL, 0x2810);
    this.setWritableWord(pos + R.PCI_EXP_DEVCTL, 0x7fff);
    this.setW1cWord(pos + R.PCI_EXP_DEVSTA, 0x000f);
    // Link Capabilities/Control/Status (and Link 2) read 0 for an RC integrated endpoint.
  }
}

/** The physical BAR under QEMU's subregions: the device's registers, and its own PBA. */
class VfioBarBackground implements QemuRegionOps {
  readonly rules = BACKGROUND_RULES;
  readonly #fn: VfioPciFunction;
  readonly #pbaOffset: number;
  readonly #device: MmioDevice | undefined;
  readonly #wide = { hi: 0 };

  constructor(fn: VfioPciFunction, pbaOffset: number, device: MmioDevice | undefined) {
    this.#fn = fn;
    this.#pbaOffset = pbaOffset;
    this.#device = device;
  }

  #inPba(offset: number): boolean {
    return this.#pbaOffset >= 0 && offset >= this.#pbaOffset && offset < this.#pbaOffset + this.#fn.msix.pbaSize;
  }

  opsRead(offset: number, size: number): number {
    if (this.#inPba(offset)) {
      const rel = offset - this.#pbaOffset;
      const word = this.#fn.hostPbaWord(rel >>> 2) >>> (8 * (rel & 3));
      return size >= 4 ? word >>> 0 : (word & ((1 << (8 * size)) - 1)) >>> 0;
    }
    return this.#device?.read(offset, size as 1 | 2 | 4, this.#wide) ?? 0;
  }

  opsWrite(offset: number, size: number, value: number): void {
    if (this.#inPba(offset)) return;
    this.#device?.write(offset, size as 1 | 2 | 4, value, 0);
  }

  opsInvalid(): void {
    // BACKGROUND_RULES accept every piece
  }
}
