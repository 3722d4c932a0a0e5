/**
 * The ITS and the GICv4.1 VLPI frame driving the real Gicv3 model: an MSI
 * written to GITS_TRANSLATER is acknowledged with ICC_IAR1_EL1 (physical) or
 * ICV_IAR1_EL1 (a vLPI of the resident vPE) and completed with EOIR1.
 */
import { describe, expect, it } from "vitest";
import { GICR_CTLR, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICH_HCR_EL2, ICH_VMCR_EL2 } from "../gicv3-constants.js";
import { GICR_VPENDBASER, GICR_VPENDBASER_HI_VALID } from "../v4/gicr-vlpi-frame.js";
import { itsCommand as cmd } from "./its-command-encoding.js";
import { RAM_BASE, VCONF, gicWithIts, ittOf } from "./its-test-kit.js";

describe.each(["linux-kvm", "qemu"] as const)("ITS + Gicv3 (%s)", (profile) => {
  it("MSI → LPI pending → ICC_IAR1 → ICC_EOIR1, on the collection's PE", () => {
    const { gic, h } = gicWithIts(profile);
    h.submit(cmd.mapd(3, ittOf(3), 4), cmd.mapc(0, 1), cmd.mapti(3, 9, 8200, 0));
    expect(h.its.commandErrors).toBe(0);
    h.msi(3, 9);
    expect(gic.readSysReg(0, ICC_IAR1_EL1)).toBe(1023);
    expect(gic.readSysReg(1, ICC_IAR1_EL1)).toBe(8200);
    gic.writeSysReg(1, ICC_EOIR1_EL1, 8200);
    expect(gic.readSysReg(1, ICC_IAR1_EL1)).toBe(1023);
    h.msi(3, 9);
    h.msi(3, 9);
    expect(gic.readSysReg(1, ICC_IAR1_EL1)).toBe(8200);
    gic.writeSysReg(1, ICC_EOIR1_EL1, 8200);
    expect(gic.readSysReg(1, ICC_IAR1_EL1)).toBe(1023); // pending once until acknowledged
  });

  it("a vLPI of the resident vPE is taken through ICV_IAR1 without the hypervisor", () => {
    const { gic, h, frames } = gicWithIts(profile);
    h.submit(
      cmd.mapd(3, ittOf(3), 4),
      cmd.vmapp({ vpeId: 4, rd: 1, vptAddr: RAM_BASE + 0x320_0000, vptIdBits: 16, vconfAddr: VCONF, doorbell: 1023, alloc: true, ptz: true }),
      cmd.vmapti(3, 2, 4, 8300),
    );
    expect(h.its.commandErrors).toBe(0);
    gic.writeSysReg(1, ICH_HCR_EL2, 1);
    gic.writeSysReg(1, ICH_VMCR_EL2, ((0xff << 24) | 2) >>> 0);
    frames[1]!.write(GICR_VPENDBASER, 8, 4, GICR_VPENDBASER_HI_VALID);
    h.msi(3, 2);
    const hyp = gic.hyp[1]!;
    expect(hyp.readIcv(ICC_IAR1_EL1)).toBe(8300);
    hyp.writeIcv(ICC_EOIR1_EL1, 8300);
    expect(hyp.readIcv(ICC_IAR1_EL1)).toBe(1023);
    expect(gic.readSysReg(1, ICC_IAR1_EL1)).toBe(1023); // nothing physical
  });
});

describe("EnableLPIs 1 → 0 and the translation cache (linux-kvm)", () => {
  it("clearing GICR_CTLR.EnableLPIs drops the cached translations that target that redistributor", () => {
    // Linux vgic-mmio-v3.c vgic_mmio_write_v3r_ctlr → vgic_its_invalidate_all_caches: KVM invalidates ITS translation caches when a redistributor's LPIs are disabled,
    // so a cached translation never outlives the LPIs it targets.
    const { gic, h, stride } = gicWithIts("linux-kvm");
    h.submit(cmd.mapd(3, ittOf(3), 4), cmd.mapc(0, 1), cmd.mapti(3, 9, 8200, 0));
    h.msi(3, 9);
    expect(h.its.cache?.lookup(3, 9)).toBeGreaterThanOrEqual(0);
    gic.redistributors.write(1 * stride + GICR_CTLR, 4, 0, 0);
    expect(h.its.cache?.lookup(3, 9)).toBe(-1);
  });
});
