/**
 * The arm64 Generic Timer node (`arm,armv8-timer`, or `arm,armv7-timer`;
 * Documentation/devicetree/bindings/timer/arm,arch_timer.yaml), read as
 * Linux's arch_timer_of_init() reads it (drivers/clocksource/arm_arch_timer.c):
 * its `interrupts` are, in order, the secure physical, non-secure physical,
 * virtual, hypervisor physical and (optionally) hypervisor virtual timer
 * PPIs (ARCH_TIMER_PHYS_SECURE_PPI .. ARCH_TIMER_HYP_VIRT_PPI). A KVM guest
 * runs at EL1 and uses the virtual timer; kvm-unit-tests' timer code reads
 * the same node (lib/arm/timer.c: the physical and virtual entries).
 *
 * A GIC specifier is <type number flags>: type 1 is a PPI, whose INTID is
 * number + 16 (GIC binding: "PPI interrupts are in the range [0-15]").
 */

import type { Fdt } from "@irqlab/fdt";
import { fault, interruptsOf, isAvailable } from "./dt-read.js";
import type { ArchTimerInfo } from "./platform-info.js";

/** GIC specifier type of a PPI. */
const GIC_PPI = 1;
/** INTID of PPI 0. */
const FIRST_PPI_INTID = 16;

/** The first available architected timer node, or undefined when the tree has none. */
export function findArchTimer(fdt: Fdt): ArchTimerInfo | undefined {
  const node = [...fdt.findCompatible("arm,armv8-timer"), ...fdt.findCompatible("arm,armv7-timer")].find(isAvailable);
  if (node === undefined) return undefined;
  const ppis = interruptsOf(fdt, node).map((spec, i) => {
    const [type, num, flags] = spec.cells;
    if (spec.cells.length < 3 || type !== GIC_PPI || num === undefined || num > 15) {
      fault(`${node.path}: interrupt ${i} <${spec.cells.join(" ")}> is not a GIC PPI`);
    }
    return { intid: num + FIRST_PPI_INTID, flags: flags ?? 0 };
  });
  if (ppis.length < 4) fault(`${node.path} lists ${ppis.length} interrupts; the secure, non-secure, virtual and hypervisor timers need 4`);
  return {
    path: node.path,
    securePhysical: ppis[0]!.intid,
    physical: ppis[1]!.intid,
    virtual: ppis[2]!.intid,
    virtualFlags: ppis[2]!.flags,
    hypPhysical: ppis[3]!.intid,
    hypVirtual: ppis[4]?.intid,
    alwaysOn: node.has("always-on"),
  };
}
