// Which SGIs an ICC_SGI1R_EL1 / ICC_SGI0R_EL1 / ICC_ASGI1R_EL1 write makes pending, by SGI group and
// profile: KVM arch/arm64/kvm/sys_regs.c access_gic_sgi → vgic-mmio-v3.c vgic_v3_queue_sgi
// (`!irq->group || allow_group1`); QEMU hw/intc/arm_gicv3_cpuif.c icc_sgi0r_write / icc_sgi1r_write /
// icc_asgi1r_write → icc_generate_sgi → hw/intc/arm_gicv3_redist.c gicv3_redist_send_sgi, with
// GICD_CTLR.DS = 1 and a Non-secure PE (QEMU virt without EL3).
import { describe, expect, test } from "vitest";
import {
  GICD_CTLR,
  GICD_CTLR_DS,
  GICD_NSACR,
  GICR_IGROUPR0,
  GICR_ISPENDR0,
  GICR_NSACR,
  GICR_SGI_BASE,
  ICC_ASGI1R_EL1,
  ICC_SGI0R_EL1,
  ICC_SGI1R_EL1,
} from "./gicv3-constants.js";
import { Gicv3 } from "./gicv3.js";
import type { Gicv3Profile } from "./gicv3-irq-state.js";

const W = { hi: 0 };
const G0_SGI = 2;
const G1_SGI = 3;

/** Two PEs; on PE 1 SGI 2 is group 0 and SGI 3 group 1. */
function gicWithGroups(profile: Gicv3Profile) {
  const gic = new Gicv3({ cpus: 2, profile });
  const sgi = (pe: number) => pe * gic.redistributors.stride + GICR_SGI_BASE;
  gic.redistributors.write(sgi(1) + GICR_IGROUPR0, 4, ~(1 << G0_SGI) >>> 0, 0);
  const pending = (): number[] => {
    const v = gic.redistributors.read(sgi(1) + GICR_ISPENDR0, 4, W);
    return [G0_SGI, G1_SGI].filter((n) => ((v >>> n) & 1) === 1);
  };
  /** PE 0 writes `reg` targeting PE 1 (Aff0 = 1) with SGI `intid`. */
  const send = (reg: number, intid: number) => {
    gic.writeSysReg(0, reg, ((intid << 24) | 0b10) >>> 0, 0);
  };
  return { gic, pending, send, sgi };
}

describe.each([
  ["kvm", [G0_SGI, G1_SGI]],
  ["qemu", [G1_SGI]],
] as const)("SGI generation by group under %s", (profile, bySgi1r) => {
  test("SGI1R: KVM pends both groups; QEMU only group 1 (G1NS ≠ G0 in gicv3_redist_send_sgi)", () => {
    const { pending, send } = gicWithGroups(profile);
    send(ICC_SGI1R_EL1, G0_SGI);
    send(ICC_SGI1R_EL1, G1_SGI);
    expect(pending()).toEqual(bySgi1r);
  });

  test("SGI0R and ASGI1R pend group-0 SGIs only (ASGI1R: Secure G1 becomes G0 with DS = 1)", () => {
    for (const reg of [ICC_SGI0R_EL1, ICC_ASGI1R_EL1]) {
      const { pending, send } = gicWithGroups(profile);
      send(reg, G1_SGI);
      expect(pending()).toEqual([]);
      send(reg, G0_SGI);
      expect(pending()).toEqual([G0_SGI]);
    }
  });

  test("with DS = 1 the NSACRs are RAZ/WI and do not gate a Non-secure SGI0R (no gicr_ns_access check)", () => {
    const { gic, pending, send, sgi } = gicWithGroups(profile);
    expect(gic.distributor.read(GICD_CTLR, 4, W) & GICD_CTLR_DS).toBe(GICD_CTLR_DS);
    gic.redistributors.write(sgi(1) + GICR_NSACR, 4, 0xffff_ffff, 0);
    gic.distributor.write(GICD_NSACR + 8, 4, 0xffff_ffff, 0);
    expect(gic.redistributors.read(sgi(1) + GICR_NSACR, 4, W)).toBe(0);
    expect(gic.distributor.read(GICD_NSACR + 8, 4, W)).toBe(0);
    send(ICC_SGI0R_EL1, G0_SGI);
    expect(pending()).toEqual([G0_SGI]);
  });
});
