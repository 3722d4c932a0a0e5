/**
 * The arm `virt` machine class of qemu-system-aarch64 11.1.0
 * (hw/arm/virt.c): type "virt-11.1" with alias "virt", its properties and
 * their setters' messages (virt_machine_class_init, virt_instance_init), and
 * the checks machvirt_init makes before it builds anything:
 * finalize_gic_version, finalize_msi_controller, the CPU limit of the
 * redistributor space, and what KVM cannot give a guest (TrustZone, EL2 and
 * MTE on irqlab's host).
 *
 * irqlab models GICv3 with the in-kernel vgic and an ITS, on a host whose
 * KVM offers vgic-v3 only (no GICv2 compatibility, so gic-version=2 is
 * QEMU's "KVM does not support GICv2 emulation"); it adds two machine
 * properties with QEMU's "x-" prefix for experimental options:
 * x-cpu-hotplug=off|precreate|naive and x-vgic-init=board-init|first-run.
 */

import type { AccelConfig, ArmVirtMachineConfig, CpuHotplugMode, VgicInitMode } from "../config/machine-config.js";
import { QapiError } from "./qemu-error.js";
import {
  boolProp, newMachineState, onOffAutoProp, onlyValue, strProp,
  type MachineClass, type MachineProperty, type MachineState,
} from "./machine-class.js";

/** The QEMU release whose virt defaults irqlab follows. */
export const QEMU_VERSION = "11.1.0";

/** The versioned arm virt types QEMU 11.1.0 defines (DEFINE_VIRT_MACHINE); irqlab models the latest only. */
export const ARM_VIRT_QEMU_VERSIONS = [
  "11.1", "11.0", "10.2", "10.1", "10.0", "9.2", "9.1", "9.0", "8.2", "8.1", "8.0",
  "7.2", "7.1", "7.0", "6.2", "6.1", "6.0", "5.2", "5.1", "5.0",
] as const;

type GicVersionProp = "nosel" | "2" | "3" | "4" | "x-5" | "host" | "max";
type MsiProp = "auto" | "its" | "gicv2m" | "off" | "legacy-its-off";

/** VirtMachineState: the arm virt properties as set. */
export interface ArmVirtState extends MachineState {
  gicVersion: GicVersionProp;
  msi: MsiProp;
  highmem: boolean;
  highmemRedists: boolean;
  highmemEcam: boolean;
  highmemMmio: boolean;
  secure: boolean;
  virtualization: boolean;
  mte: boolean;
  cpuHotplug: CpuHotplugMode;
  vgicInit: VgicInitMode;
}

/** GICV3_REDIST_SIZE: one redistributor (RD_base + SGI_base frames). */
const GICV3_REDIST_SIZE = 0x20000;
/** base_memmap[VIRT_GIC_REDIST].size: the redistributor region below 4 GiB. */
const VIRT_GIC_REDIST_SIZE = 0x00f60000;
/** extended_memmap[VIRT_HIGH_GIC_REDIST2].size: the one above. */
const VIRT_HIGH_GIC_REDIST2_SIZE = 64 * 1024 * 1024;
/** GIC_NCPU: GICv2's CPU limit. */
const GIC_NCPU = 8;
/** DEFAULT_HIGH_PCIE_MMIO_SIZE: 512 GiB. */
const DEFAULT_HIGH_PCIE_MMIO_SIZE = 512n << 30n;
/** NUM_VIRTIO_TRANSPORTS (include/hw/arm/virt.h). */
const NUM_VIRTIO_TRANSPORTS = 32n;

/** A string property whose setter accepts one of `values`, else "Invalid NAME value" + hint, as virt.c's do. */
function choiceProp<K extends string>(name: string, description: string, values: readonly K[], hint: string, apply: (s: ArmVirtState, v: K) => void): MachineProperty<ArmVirtState> {
  return strProp<ArmVirtState>(name, description, (s, value) => {
    const v = values.find((x) => x === value);
    if (v === undefined) throw new QapiError(`Invalid ${name} value`, hint);
    apply(s, v);
  });
}

const highmemBool = (name: string, description: string, key: "highmem" | "highmemRedists" | "highmemEcam" | "highmemMmio"): MachineProperty<ArmVirtState> =>
  boolProp<ArmVirtState>(name, description, (s, b) => {
    s[key] = b;
  });

const ARM_VIRT_PROPS: readonly MachineProperty<ArmVirtState>[] = [
  onOffAutoProp<ArmVirtState>("acpi", "Enable ACPI", (_s, v) => {
    if (v === "on") throw onlyValue("acpi", "off or acpi=auto (no ACPI tables)");
  }),
  boolProp<ArmVirtState>("secure", "Set on/off to enable/disable the ARM Security Extensions (TrustZone)", (s, b) => {
    s.secure = b;
  }),
  boolProp<ArmVirtState>("virtualization", "Set on/off to enable/disable emulating a guest CPU which implements the ARM Virtualization Extensions", (s, b) => {
    s.virtualization = b;
  }),
  highmemBool("highmem", "Set on/off to enable/disable using physical address space above 32 bits", "highmem"),
  boolProp("compact-highmem", "Set on/off to enable/disable compact layout for high memory regions"),
  highmemBool("highmem-redists", "Set on/off to enable/disable high memory region for GICv3 or GICv4 redistributor", "highmemRedists"),
  highmemBool("highmem-ecam", "Set on/off to enable/disable high memory region for PCI ECAM", "highmemEcam"),
  highmemBool("highmem-mmio", "Set on/off to enable/disable high memory region for PCI MMIO", "highmemMmio"),
  {
    name: "highmem-mmio-size", type: "size", description: "Set the high memory region size for PCI MMIO",
    set: (v) => {
      // virt_set_highmem_mmio_size().
      const size = v.size("highmem-mmio-size");
      if (size === 0n || (size & (size - 1n)) !== 0n) throw new QapiError("highmem-mmio-size is not a power of 2");
      if (size < DEFAULT_HIGH_PCIE_MMIO_SIZE) {
        throw new QapiError("highmem-mmio-size cannot be set to a lower value than the default (512 GiB)");
      }
      if (size !== DEFAULT_HIGH_PCIE_MMIO_SIZE) throw onlyValue("highmem-mmio-size", "512G");
    },
  },
  {
    name: "virtio-mmio-transports", type: "uint8", description: "Set the number of virtio-mmio transports to instantiate",
    set: (v) => {
      // virt_set_virtio_transports().
      const n = v.uintN("virtio-mmio-transports", 255n, "uint8_t");
      if (n > NUM_VIRTIO_TRANSPORTS) throw new QapiError("virtio-mmio-transports must not exceed 32");
      if (n !== NUM_VIRTIO_TRANSPORTS) throw onlyValue("virtio-mmio-transports", "32");
    },
  },
  choiceProp("gic-version", "Set GIC version. Valid values are 2, 3, 4, x-5, host and max", ["x-5", "4", "3", "2", "host", "max"], "Valid values are 2, 3, 4, x-5, host, and max.\n", (s, v) => {
    s.gicVersion = v;
  }),
  choiceProp("iommu", "Set the IOMMU type. Valid values are none and smmuv3", ["smmuv3", "none"], "Valid values are none, smmuv3.\n", (_s, v) => {
    if (v === "smmuv3") throw onlyValue("iommu", "none");
  }),
  boolProp("default-bus-bypass-iommu", "Set on/off to enable/disable bypass_iommu for default root bus"),
  boolProp<ArmVirtState>("ras", "Set on/off to enable/disable reporting host memory errors to a KVM guest using ACPI and guest external abort exceptions", (_s, b, name) => {
    if (b) throw onlyValue(name, "off");
  }),
  boolProp<ArmVirtState>("mte", "Set on/off to enable/disable emulating a guest CPU which implements the ARM Memory Tagging Extension", (s, b) => {
    s.mte = b;
  }),
  boolProp<ArmVirtState>("its", "Set on/off to enable/disable ITS instantiation", (s, b) => {
    // virt_set_its(): its=off is the legacy spelling of msi=off (GICv2m with a GICv2).
    s.msi = b ? "its" : "legacy-its-off";
  }),
  choiceProp("msi", "Set MSI settings. Valid values are auto, gicv2m, its and off", ["auto", "its", "gicv2m", "off"], "Valid values are auto, gicv2m, its, off\n", (s, v) => {
    s.msi = v;
  }),
  boolProp("dtb-randomness", "Set off to disable passing random or non-deterministic dtb nodes to guest"),
  boolProp("dtb-kaslr-seed", "Deprecated synonym of dtb-randomness"),
  strProp("x-oem-id", "Override the default value of field OEMID in ACPI table header.The string may be up to 6 bytes in size", (_s, value) => {
    if (new TextEncoder().encode(value).length > 6) throw new QapiError("User specified oem-id value is bigger than 6 bytes in size");
  }),
  strProp("x-oem-table-id", "Override the default value of field OEM Table ID in ACPI table header.The string may be up to 8 bytes in size", (_s, value) => {
    if (new TextEncoder().encode(value).length > 8) throw new QapiError("User specified oem-table-id value is bigger than 8 bytes in size");
  }),
  choiceProp("x-cpu-hotplug", "(irqlab) Absent CPU slots: off (QEMU upstream), precreate (vCPUs created and parked at init, RFC V5), naive (created at plug time)", ["off", "precreate", "naive"], "Valid values are off, precreate, and naive.\n", (s, v) => {
    s.cpuHotplug = v;
  }),
  choiceProp("x-vgic-init", "(irqlab) When the vgic is initialised: board-init (KVM_DEV_ARM_VGIC_CTRL_INIT, QEMU since 2015) or first-run (by KVM at the first KVM_RUN)", ["board-init", "first-run"], "Valid values are board-init and first-run.\n", (s, v) => {
    s.vgicInit = v;
  }),
];

/** The "virt-11.1" machine class (alias "virt"), mc->max_cpus 512 ("the maximum supported by KVM"). */
export const ARM_VIRT_CLASS: MachineClass<ArmVirtState> = {
  arch: "aarch64",
  name: "virt-11.1",
  alias: "virt",
  typeName: "virt-11.1-machine",
  desc: "QEMU 11.1 ARM Virtual Machine",
  minCpus: 1,
  maxCpus: 512,
  // No default_ram_size in virt: machine_class_init's 128 MiB.
  defaultRamSize: 128n << 20n,
  smpProps: { dies: false, clusters: true, modules: false, books: false, drawers: false, preferSockets: false },
  props: ARM_VIRT_PROPS,
  newState: () => ({
    ...newMachineState(ARM_VIRT_CLASS),
    gicVersion: "nosel",
    msi: "auto",
    highmem: true,
    highmemRedists: true,
    highmemEcam: true,
    highmemMmio: true,
    secure: false,
    virtualization: false,
    mte: false,
    cpuHotplug: "off",
    vgicInit: "board-init",
  }),
};

/** finalize_gic_version(): the GIC version under KVM on irqlab's vgic-v3-only host. */
function finalizeGicVersion(s: ArmVirtState, accel: AccelConfig): 2 | 3 {
  const inKernel = accel.kernelIrqchip !== "off";
  // current_accel_name() is the AccelClass name, "KVM".
  const accelName = inKernel ? "KVM" : "KVM with kernel-irqchip=off";
  // kvm_arm_vgic_probe() finds vgic-v3 only; without the in-kernel irqchip KVM can only do GICv2.
  const supported = inKernel ? [3] : [2];
  let v: number;
  switch (s.gicVersion) {
    case "host":
    case "max":
      v = supported.includes(3) ? 3 : 2;
      break;
    case "nosel":
      if (supported.includes(2) && s.smp.maxcpus <= GIC_NCPU) v = 2;
      else if (supported.includes(3)) v = 3;
      else throw new QapiError(`${accelName} only supports GICv2 emulation but more than 8 vcpus are requested`);
      break;
    case "2": v = 2; break;
    case "3": v = 3; break;
    case "4": v = 4; break;
    case "x-5": v = 5; break;
  }
  if (v === 4) throw new QapiError(`${accelName} does not support GICv4 emulation, is virtualization=on?`);
  if (v === 5) throw new QapiError(`${accelName} does not support GICv5 emulation`);
  if (!supported.includes(v)) {
    throw new QapiError(
      `${accelName} does not support GICv${String(v)} emulation`,
      v === 2 ? "irqlab's host offers only vgic-v3 (no GICv2 compatibility): use gic-version=3, host or max.\n" : undefined,
    );
  }
  return v === 2 ? 2 : 3;
}

/**
 * The checks of machvirt_init (after the CPU type is accepted), then what
 * irqlab cannot build; returns the resolved machine. Errors are reported
 * without a location, as QEMU's are at this point.
 */
export function armVirtBoardInit(s: ArmVirtState, accel: AccelConfig): ArmVirtMachineConfig {
  const gic = finalizeGicVersion(s, accel);
  // finalize_msi_controller().
  let msi = s.msi;
  if (msi === "legacy-its-off") msi = gic === 2 ? "gicv2m" : "off";
  if (msi === "auto") msi = gic === 2 ? "gicv2m" : "its";
  if (msi === "its" && gic === 2) throw new QapiError("GICv2 + ITS is an invalid configuration.");

  // virt_set_high_memmap() drops the high regions when highmem=off (32-bit PA space).
  const highmemRedists = s.highmemRedists && s.highmem;
  const virtMaxCpus = gic === 2
    ? GIC_NCPU
    : VIRT_GIC_REDIST_SIZE / GICV3_REDIST_SIZE + (highmemRedists ? VIRT_HIGH_GIC_REDIST2_SIZE / GICV3_REDIST_SIZE : 0);
  if (s.smp.maxcpus > virtMaxCpus) {
    throw new QapiError(
      `Number of SMP CPUs requested (${String(s.smp.maxcpus | 0)}) exceeds max CPUs supported by machine 'mach-virt' (${String(virtMaxCpus)})`,
      gic !== 2 && !highmemRedists ? "Try 'highmem-redists=on' for more CPUs\n" : undefined,
    );
  }
  if (s.secure) throw new QapiError("mach-virt: KVM does not support providing Security extensions (TrustZone) to the guest CPU");
  if (s.virtualization) {
    throw new QapiError(
      "mach-virt: host kernel KVM does not support providing Virtualization extensions to the guest CPU",
      "irqlab's host model has no nested virtualization.\n",
    );
  }
  if (s.mte) throw new QapiError("MTE requested, but not supported by KVM", "irqlab's host model has no MTE.\n");
  if (gic === 2) {
    throw new QapiError(
      "irqlab models only GICv3 with the in-kernel vgic: kernel-irqchip=off would make QEMU emulate a GICv2",
      "Use kernel-irqchip=on (the default).\n",
    );
  }
  if (msi === "gicv2m") throw new QapiError("irqlab does not model the GICv2m MSI frame", "Use msi=its or msi=auto (an ITS), or msi=off.\n");
  return {
    type: "virt",
    gicVersion: 3,
    its: msi === "its",
    highmem: s.highmem,
    highmemRedists,
    highmemEcam: s.highmemEcam && s.highmem,
    highmemMmio: s.highmemMmio && s.highmem,
    ...(s.dumpdtb === undefined ? {} : { dumpdtb: s.dumpdtb }),
    cpuHotplug: s.cpuHotplug,
    vgicInit: s.vgicInit,
  };
}
