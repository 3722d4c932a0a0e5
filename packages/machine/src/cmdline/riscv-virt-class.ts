/**
 * The RISC-V `virt` machine class of qemu-system-riscv64 11.1.0
 * (hw/riscv/virt.c virt_machine_class_init, virt_machine_instance_init):
 * type "virt" (not versioned), up to VIRT_CPUS_MAX = 512 harts, no extra
 * topology levels, and the properties aclint, aia, aia-guests, acpi and
 * iommu-sys with their setters' messages.
 *
 * Two setter details are QEMU's and kept: aia-guests is read with atoi(),
 * so "abc" is 0 and "3x" is 3; and aclint=on is refused only at board
 * init, under KVM ("'aclint' is only available with TCG acceleration").
 * The socket limit of virt_machine_init (VIRT_SOCKETS_MAX = 4) counts NUMA
 * nodes (riscv_socket_count), which irqlab's command line cannot create, so
 * it never applies.
 */

import type { RiscvVirtMachineConfig } from "../config/machine-config.js";
import { QapiError } from "./qemu-error.js";
import { boolProp, newMachineState, onOffAutoProp, onlyValue, strProp, type MachineClass, type MachineProperty, type MachineState } from "./machine-class.js";

/** VIRT_IRQCHIP_MAX_GUESTS: (1 << VIRT_IRQCHIP_MAX_GUESTS_BITS) - 1 guest interrupt files per hart. */
export const VIRT_IRQCHIP_MAX_GUESTS = 7;

/** RISCVVirtState: the riscv virt properties as set. */
export interface RiscvVirtState extends MachineState {
  aia: RiscvVirtMachineConfig["aia"];
  aiaGuests: number;
  aclint: boolean;
}

/** C atoi(): leading whitespace, sign, decimal digits; 0 if none; int overflow as glibc's strtol then (int). */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?[0-9]+)/.exec(s);
  if (m === null) return 0;
  let v = BigInt(m[1]!);
  const max = (1n << 63n) - 1n;
  if (v > max) v = max;
  if (v < -max - 1n) v = -max - 1n;
  return Number(BigInt.asIntN(32, v));
}

const RISCV_VIRT_PROPS: readonly MachineProperty<RiscvVirtState>[] = [
  boolProp<RiscvVirtState>("aclint", "(TCG only) Set on/off to enable/disable emulating ACLINT devices", (s, b) => {
    s.aclint = b;
  }),
  strProp<RiscvVirtState>("aia", "Set type of AIA interrupt controller. Valid values are none, aplic, and aplic-imsic.", (s, value) => {
    // virt_set_aia().
    if (value !== "none" && value !== "aplic" && value !== "aplic-imsic") {
      throw new QapiError("Invalid AIA interrupt controller type", "Valid values are none, aplic, and aplic-imsic.\n");
    }
    s.aia = value;
  }),
  strProp<RiscvVirtState>("aia-guests", `Set number of guest MMIO pages for AIA IMSIC. Valid value should be between 0 and ${String(VIRT_IRQCHIP_MAX_GUESTS)}.`, (s, value) => {
    // virt_set_aia_guests(): atoi, then the range check.
    const n = atoi(value);
    if (n < 0 || n > VIRT_IRQCHIP_MAX_GUESTS) {
      throw new QapiError("Invalid number of AIA IMSIC guests", `Valid values be between 0 and ${String(VIRT_IRQCHIP_MAX_GUESTS)}.\n`);
    }
    s.aiaGuests = n;
  }),
  onOffAutoProp<RiscvVirtState>("acpi", "Enable ACPI", (_s, v) => {
    if (v === "on") throw onlyValue("acpi", "off or acpi=auto (no ACPI tables)");
  }),
  onOffAutoProp<RiscvVirtState>("iommu-sys", "Enable IOMMU platform device", (_s, v) => {
    if (v === "on") throw onlyValue("iommu-sys", "off or iommu-sys=auto (no IOMMU)");
  }),
];

/** The riscv "virt" machine class. */
export const RISCV_VIRT_CLASS: MachineClass<RiscvVirtState> = {
  arch: "riscv64",
  name: "virt",
  alias: undefined,
  typeName: "virt-machine",
  desc: "RISC-V VirtIO board",
  minCpus: 1,
  maxCpus: 512,
  // No default_ram_size in riscv virt: machine_class_init's 128 MiB.
  defaultRamSize: 128n << 20n,
  smpProps: { dies: false, clusters: false, modules: false, books: false, drawers: false, preferSockets: false },
  props: RISCV_VIRT_PROPS,
  newState: () => ({ ...newMachineState(RISCV_VIRT_CLASS), aia: "none", aiaGuests: 0, aclint: false }),
};

/** The checks of virt_machine_init under KVM; returns the resolved machine. */
export function riscvVirtBoardInit(s: RiscvVirtState): RiscvVirtMachineConfig {
  // virt_aclint_allowed() is tcg_enabled().
  if (s.aclint) throw new QapiError("'aclint' is only available with TCG acceleration");
  return {
    type: "virt",
    aia: s.aia,
    aiaGuests: s.aiaGuests,
    ...(s.dumpdtb === undefined ? {} : { dumpdtb: s.dumpdtb }),
  };
}
