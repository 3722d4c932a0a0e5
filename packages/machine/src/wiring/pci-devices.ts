/**
 * The virt board's PCIe host bridge (QEMU's gpex, "pci-host-ecam-generic")
 * and the PCI functions `-device` plugs into it: `vfio-pci` (a passthrough
 * function with MSI-X, its vectors wired to KVM through vfio-pci-kvm.ts) and
 * `x-irqlab-msix-test` (an emulated MSI-X function whose messages QEMU
 * sends with KVM_SIGNAL_MSI, as msix_notify → kvm_its_send_msi does under
 * KVM). BARs the guest programs appear in the machine's address space.
 */

import { KVM_MSI_VALID_DEVID, type KvmMsi } from "@irqlab/kvm";
import { ConfigError, type MmioDevice } from "@irqlab/sim";
import type { DeviceConfig } from "../config/machine-config.js";
import type { MsiSink } from "../devices/interrupt.js";
import { MsixTestFunction } from "../devices/pci/msix-test-device.js";
import type { PciFunction } from "../devices/pci/pci-function.js";
import { PcieHost } from "../devices/pci/pcie-host.js";
import { VIRTIO_SCSI_PCI_LAYOUT } from "../devices/pci/vfio-pci-backend.js";
import { VfioPciFunction } from "../devices/pci/vfio-pci.js";
import type { DeviceContext } from "./device-context.js";
import { VfioPciKvmBackend } from "./vfio-pci-kvm.js";
import type { Gicv4Mode } from "../config/machine-config.js";
import { Gicv4Passthrough } from "./gicv4-passthrough.js";
import { VfioRequestEngine } from "./vfio-pci-requests.js";

/** The PCI drivers `-device` accepts, with QEMU's `-device help` description. */
export const PCI_DEVICE_DRIVERS: Readonly<Record<string, string>> = {
  "vfio-pci": "VFIO-based PCI device assignment (irqlab: a simulated host function with MSI-X, virtio-scsi layout, 7 vectors)",
  "x-irqlab-msix-test": "irqlab's emulated PCI function with MSI-X (a doorbell register in BAR0 raises a vector)",
};

/** A plugged PCI function. */
export interface PluggedPciDevice {
  readonly id: string | undefined;
  readonly driver: string;
  readonly fn: PciFunction;
  /** vfio-pci only: its KVM side. */
  readonly vfio?: VfioPciKvmBackend;
  /** vfio-pci only: the device raising MSI-X entry `vector` (through the host ITS with x-gicv4). */
  readonly raise?: (vector: number) => void;
  /** vfio-pci only: BAR4's request engine (kicks that raise vectors). */
  readonly requests?: VfioRequestEngine;
}

/** The PCIe host bridge of one machine with its functions. */
export class MachinePci {
  readonly host: PcieHost;
  readonly devices: PluggedPciDevice[] = [];
  readonly #ctx: DeviceContext;
  readonly #sink: MsiSink;
  readonly #msi: { addressLo: number; addressHi: number; data: number; flags: number; devid: number } = { addressLo: 0, addressHi: 0, data: 0, flags: 0, devid: 0 };
  readonly #gicv4Mode: Gicv4Mode;
  /** The host's GICv4.1 ITS and the VM's forwarding (x-gicv4), created with the first vfio-pci function. */
  gicv4: Gicv4Passthrough | undefined;

  constructor(ctx: DeviceContext, ecam: { readonly base: number; readonly size: number }, gicv4: Gicv4Mode = "off") {
    this.#ctx = ctx;
    this.#gicv4Mode = gicv4;
    const bus = ctx.bus;
    this.host = new PcieHost({
      tracer: ctx.tracer,
      name: `${ctx.name}/pcie`,
      barListener: {
        barMapped: (fn: PciFunction, bar: number, address: number, size: number, device: MmioDevice) => {
          bus.map(address, size, device, `${ctx.name}/${fn.name}/bar${bar}`);
        },
        barUnmapped: (fn: PciFunction, bar: number) => {
          bus.unmap(`${ctx.name}/${fn.name}/bar${bar}`);
        },
      },
    });
    bus.map(ecam.base, ecam.size, this.host, `${ctx.name}/pcie-ecam`);
    const useDevid = ctx.arch === "aarch64";
    // msix_notify → msi_send_message; under KVM with the in-kernel ITS: kvm_its_send_msi (KVM_SIGNAL_MSI with the devid).
    this.#sink = (addressLo, addressHi, data, requesterId) => {
      const m = this.#msi;
      m.addressLo = addressLo;
      m.addressHi = addressHi;
      m.data = data;
      m.flags = useDevid ? KVM_MSI_VALID_DEVID : 0;
      m.devid = useDevid ? requesterId : 0;
      ctx.calls.call("KVM_SIGNAL_MSI", `addr=0x${(addressHi * 2 ** 32 + addressLo).toString(16)} data=${data} devid=${m.devid}`, () => ctx.vm.signalMsi(m as KvmMsi));
    };
    ctx.addResetHandler(() => {
      this.host.reset();
    });
  }

  /** `-device DRIVER,...` for a PCI driver: creates the function and plugs it at `addr=` or the first free slot. */
  plug(d: DeviceConfig): PluggedPciDevice {
    const props = new Map(Object.entries(d.props));
    const take = (k: string): string | undefined => {
      const v = props.get(k);
      props.delete(k);
      return v;
    };
    const addr = take("addr");
    let fn: PciFunction;
    let vfio: VfioPciKvmBackend | undefined;
    let raise: ((vector: number) => void) | undefined;
    let requests: VfioRequestEngine | undefined;
    const name = d.id ?? `${d.driver}.${this.devices.length}`;
    if (d.driver === "vfio-pci") {
      const host = take("host");
      const sysfsdev = take("sysfsdev");
      const dynamic = take("x-irqlab-dynamic-msix");
      if (host === undefined && sysfsdev === undefined) {
        // vfio_pci_realize(): neither host= nor sysfsdev=.
        throw new ConfigError("No provided host device - Use -device vfio-pci,host=DDDD:BB:DD.F or -device vfio-pci,sysfsdev=PATH_TO_DEVICE");
      }
      this.#rejectUnknown(d.driver, props);
      const nvec = VIRTIO_SCSI_PCI_LAYOUT.msix.vectors;
      const mode = this.#gicv4Mode;
      // The host handler and the device's raise run only once the function below exists.
      const hostVectors =
        mode === "off"
          ? undefined
          : (this.gicv4 ??= new Gicv4Passthrough(this.#ctx.vm, mode, this.#ctx.vm.vcpus.length)).addFunction(nvec, (k) => {
              passthrough.hostInterrupt(k);
            });
      vfio = new VfioPciKvmBackend(this.#ctx, name, hostVectors?.[0]?.irq ?? this.#ctx.allocateHostIrqs(nvec));
      const gicv4 = this.gicv4;
      raise = (k) => {
        const v = hostVectors?.[k];
        if (v !== undefined && gicv4 !== undefined) gicv4.raise(v);
        else passthrough.hostInterrupt(k);
      };
      requests = new VfioRequestEngine(this.#ctx.queue, nvec, raise);
      const engine = requests;
      const bars = VIRTIO_SCSI_PCI_LAYOUT.bars.map((b) => (b.index === 4 ? { ...b, device: engine } : b));
      const passthrough = new VfioPciFunction({ ...VIRTIO_SCSI_PCI_LAYOUT, bars, tracer: this.#ctx.tracer, name, backend: vfio, sink: this.#sink, dynamicAllocation: dynamic === "on" || dynamic === "true" });
      fn = passthrough;
    } else if (d.driver === "x-irqlab-msix-test") {
      const vectors = take("vectors");
      this.#rejectUnknown(d.driver, props);
      const n = vectors === undefined ? undefined : Number(vectors);
      if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 2048)) throw new ConfigError(`Parameter 'vectors' expects a number between 1 and 2048`);
      fn = new MsixTestFunction({ tracer: this.#ctx.tracer, name, sink: this.#sink, ...(n === undefined ? {} : { vectors: n }) });
    } else {
      throw new ConfigError(`'${d.driver}' is not a valid device model name`);
    }
    const [slot, func] = addr === undefined ? [this.#freeSlot(), 0] : parseAddr(addr);
    this.host.plug(fn, slot, func);
    const dev: PluggedPciDevice = { id: d.id, driver: d.driver, fn, ...(vfio === undefined ? {} : { vfio }), ...(raise === undefined ? {} : { raise }), ...(requests === undefined ? {} : { requests }) };
    this.devices.push(dev);
    return dev;
  }

  #freeSlot(): number {
    // pci_bus_devfn_available from devfn 8 (slot 1): slot 0 is the host bridge.
    for (let slot = 1; slot < 32; slot++) if (!this.devices.some((d) => d.fn.devfn >>> 3 === slot)) return slot;
    throw new ConfigError("PCI: no slot/function available for the device, all in use or reserved");
  }

  #rejectUnknown(driver: string, props: ReadonlyMap<string, string>): void {
    const k = props.keys().next().value;
    if (k !== undefined) throw new ConfigError(`Property '${driver}.${k}' not found`);
  }
}

/** `addr=SLOT[.FUNC]` as qdev's PCI devfn property parses it (hex). */
function parseAddr(s: string): [number, number] {
  const m = /^([0-9a-fA-F]{1,2})(?:\.([0-7]))?$/.exec(s);
  if (m === null) throw new ConfigError(`Property 'addr' doesn't take value '${s}'`);
  const slot = parseInt(m[1]!, 16);
  if (slot > 31) throw new ConfigError(`Property 'addr' doesn't take value '${s}'`);
  return [slot, m[2] === undefined ? 0 : Number(m[2])];
}
