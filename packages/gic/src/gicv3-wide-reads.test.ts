/**
 * Every 8-byte load has a defined high word, refused ones included: the MMIO
 * bus hands `wide.hi` to the guest (MmioDevice contract in @irqlab/sim), so a
 * model that leaves it alone leaks the high word of an earlier load. Found by
 * `npm run fuzz` (target gic-registers, seed 1; target its-commands, seed 1).
 * And the redistributor's VLPI_base frame without a frame device, and the
 * reserved fourth frame of a GICv4.1 redistributor (IHI 0069H §12.10), are
 * RAZ/WI guest errors like any unknown offset (target gic-registers, seed 2).
 */
import { GuestMemory, Tracer } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { GICD_CTLR, GICR_VLPI_BASE } from "./gicv3-constants.js";
import { Gicv3 } from "./gicv3.js";
import { Its } from "./its/its.js";

describe("8-byte loads refused by the model read 0 in both words and are counted", () => {
  test("GICD: 8-byte loads outside GICD_IROUTER<n> (IHI 0069H §12.1.3: 64-bit access only to 64-bit registers)", () => {
    const tracer = new Tracer();
    const gic = new Gicv3({ cpus: 1, tracer });
    for (const off of [GICD_CTLR, 0x2923, 0x6004]) {
      const wide = { hi: 0xdead };
      const before = tracer.guestErrors;
      expect(gic.distributor.read(off, 8, wide)).toBe(0);
      expect(wide.hi).toBe(0);
      expect(tracer.guestErrors - before).toBe(1);
    }
  });

  test("GICR: misaligned 8-byte loads, VLPI_base without a frame device, and the reserved fourth frame", () => {
    const tracer = new Tracer();
    const gic = new Gicv3({ cpus: 1, tracer, v41: true });
    for (const off of [0x4, 0x1_0008, GICR_VLPI_BASE + 0x70, 0x3_0000]) {
      const wide = { hi: 0xdead };
      const before = tracer.guestErrors;
      expect(gic.redistributors.read(off, 8, wide)).toBe(0);
      expect(wide.hi).toBe(0);
      expect(tracer.guestErrors - before).toBe(1);
      if (off < GICR_VLPI_BASE) continue;
      gic.redistributors.write(off, 4, 0xffff_ffff, 0);
      expect(tracer.guestErrors - before).toBe(2);
    }
  });

  test("ITS: an 8-byte load of a reserved word (0x10) (Linux vgic-its.c: only GITS_TYPER/CBASER/CWRITER/CREADR/BASER are 64-bit)", () => {
    const tracer = new Tracer();
    const memory = new GuestMemory();
    const gic = new Gicv3({ cpus: 1, memory, tracer });
    for (const profile of ["linux-kvm", "qemu"] as const) {
      const its = new Its({ profile, target: gic, memory, tracer });
      const wide = { hi: 0xdead };
      expect(its.read(0x10, 8, wide)).toBe(0);
      expect(wide.hi).toBe(0);
    }
  });
});
