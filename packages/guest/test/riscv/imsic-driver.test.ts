import { ISELECT_EIDELIVERY, ISELECT_EITHRESHOLD } from "@irqlab/aia";
import { describe, expect, test } from "vitest";
import { IrqTable } from "../../src/irq/irq-table.js";
import { CSR_SIE, IE_SEIE } from "../../src/riscv/hart-csr.js";
import { eixLocation, imsicCsrRead, imsicEixReadClear, imsicEixUpdate } from "../../src/riscv/imsic-csr.js";
import { IMSIC_IPI_ID, ImsicDriver } from "../../src/riscv/imsic-driver.js";
import { AiaRig } from "./aia-rig.js";

function setup(harts = 4): { rig: AiaRig; imsic: ImsicDriver; table: IrqTable } {
  const rig = new AiaRig({ harts });
  const table = new IrqTable();
  const s = ImsicDriver.setup(rig.platform, table);
  if (!s.ok) throw new Error(s.message);
  rig.vector = (cpu, cause) => (function* () {
    if (cause === 9) yield* s.driver.handleIrq(cpu);
  })();
  return { rig, imsic: s.driver, table };
}

function online(rig: AiaRig, imsic: ImsicDriver): void {
  for (let c = 0; c < rig.harts.length; c++) rig.run(c, imsic.startingCpu(c));
}

describe("IMSIC driver (irq-riscv-imsic-*.c) on bare IMSIC files", () => {
  test("set-up: per-hart file addresses, Linux's probe lines", () => {
    const { imsic } = setup();
    expect([0, 1, 2, 3].map((c) => imsic.msiAddress(c))).toEqual([0x2800_0000, 0x2800_1000, 0x2800_2000, 0x2800_3000]);
    expect(imsic.probeLines()).toEqual([
      "riscv-imsic: interrupt-controller@28000000: providing IPIs using interrupt 1",
      "riscv-imsic: interrupt-controller@28000000:  hart-index-bits: 2,  guest-index-bits: 0",
      "riscv-imsic: interrupt-controller@28000000: group-index-bits: 0, group-index-shift: 24",
      "riscv-imsic: interrupt-controller@28000000: per-CPU IDs 255 at base address 0x0000000028000000",
      "riscv-imsic: interrupt-controller@28000000: total 1016 interrupts available",
    ]);
  });

  test("starting a CPU: IPI identity enabled, threshold 0, delivery on, sie.SEIE", () => {
    const { rig, imsic } = setup();
    rig.run(2, imsic.startingCpu(2));
    const f = rig.sFile(2);
    expect(f.isEnabled(IMSIC_IPI_ID)).toBe(true);
    expect(f.eidelivery).toBe(1);
    expect(f.eithreshold).toBe(0);
    expect(rig.csr(2, CSR_SIE) & IE_SEIE).toBe(IE_SEIE);
    expect(rig.sFile(1).eidelivery).toBe(0);
    expect(imsic.isOnline(2)).toBe(true);
    expect(rig.run(2, imsicCsrRead(ISELECT_EIDELIVERY))).toEqual({ lo: 1, hi: 0 });
    expect(rig.run(2, imsicCsrRead(ISELECT_EITHRESHOLD))).toEqual({ lo: 0, hi: 0 });
  });

  test("an IPI is a seteipnum_le write of identity 1; the target's claim loop runs the IPI handler once", () => {
    const { rig, imsic } = setup();
    online(rig, imsic);
    const got: number[] = [];
    imsic.ipiHandler = function* (cpu) {
      yield* [];
      got.push(cpu);
    };
    rig.run(0, imsic.sendIpi(3));
    expect(rig.sFile(3).isPending(IMSIC_IPI_ID)).toBe(true);
    expect(got).toEqual([]); // hart 3 is masked
    rig.run(3, (function* () {
      yield { kind: "irq-unmask" } as const;
    })());
    expect(got).toEqual([3]);
    expect(rig.sFile(3).isPending(IMSIC_IPI_ID)).toBe(false);
    expect(rig.taken).toEqual(["cpu3:9"]);
  });

  test("allocation: the online CPU with the most free identities, its lowest free identity (0 and 1 reserved)", () => {
    const { rig, imsic } = setup();
    expect(imsic.allocVector()).toBeUndefined(); // nothing online yet
    online(rig, imsic);
    const a = imsic.allocVector()!;
    const b = imsic.allocVector()!;
    const c = imsic.allocVector([0])!;
    expect([a.cpu, a.localId, b.cpu, b.localId, c.cpu, c.localId]).toEqual([0, 2, 1, 2, 0, 3]);
    expect(new Set([a.irq, b.irq, c.irq]).size).toBe(3);
    imsic.freeVector(a);
    expect(imsic.allocVector([0])!.localId).toBe(2);
    for (let i = 0; i < 253; i++) expect(imsic.allocVector([2])).toBeDefined();
    expect(imsic.allocVector([2])!.localId).toBe(255);
    expect(imsic.allocVector([2])).toBeUndefined();
  });

  test("unmask on the owner writes eie at once; on another CPU it is synced at the owner's next interrupt", () => {
    const { rig, imsic, table } = setup();
    online(rig, imsic);
    const v = imsic.allocVector([1])!;
    const seen: string[] = [];
    table.register(v.irq, function* (irq, cpu) {
      yield* [];
      seen.push(`irq${irq}@cpu${cpu}`);
    });
    rig.run(0, imsic.unmask(v, 0)); // from CPU 0: only marked dirty
    expect(rig.sFile(1).isEnabled(v.localId)).toBe(false);
    rig.run(0, imsic.sendMsi(1, v.localId)); // pending, not enabled: no interrupt
    rig.run(1, (function* () {
      yield { kind: "irq-unmask" } as const;
    })());
    expect(seen).toEqual([]);
    rig.run(0, imsic.sendIpi(1)); // the IPI's handler entry syncs the enable; the MSI then fires
    expect(seen).toEqual([`irq${v.irq}@cpu1`]);
    expect(rig.sFile(1).isEnabled(v.localId)).toBe(true);
    rig.run(1, imsic.mask(v, 1));
    expect(rig.sFile(1).isEnabled(v.localId)).toBe(false);
  });

  test("the claim loop takes identities lowest first until stopei reads 0", () => {
    const { rig, imsic, table } = setup();
    rig.run(0, imsic.startingCpu(0));
    const order: number[] = [];
    const vs = [imsic.allocVector()!, imsic.allocVector()!, imsic.allocVector()!];
    for (const v of vs) {
      table.register(v.irq, function* () {
        yield* [];
        order.push(v.localId);
      });
      rig.run(0, imsic.unmask(v, 0));
    }
    for (const v of [...vs].reverse()) rig.run(0, imsic.sendMsi(0, v.localId));
    const claimed = rig.run(0, imsic.handleIrq(0));
    expect(claimed).toBe(3);
    expect(order).toEqual([2, 3, 4]);
    expect(rig.sFile(0).readTopei()).toBe(0);
  });

  test("an identity without a vector is claimed and counted, not dispatched", () => {
    const { rig, imsic } = setup();
    rig.run(0, imsic.startingCpu(0));
    rig.sFile(0).setEnabled(40, true);
    rig.sFile(0).setPending(40);
    expect(rig.run(0, imsic.handleIrq(0))).toBe(1);
    expect(imsic.spurious).toBe(1);
  });

  test("eip/eie words on RV64: identity 70 is bit 6 of eie2, identity 40 bit 8 of eie0's upper half", () => {
    expect(eixLocation(70, false)).toEqual({ isel: 0xc2, lo: 1 << 6, hi: 0 });
    expect(eixLocation(40, true)).toEqual({ isel: 0x80, lo: 0, hi: 1 << 8 });
    const { rig } = setup();
    rig.run(0, imsicEixUpdate(70, false, true));
    rig.run(0, imsicEixUpdate(40, false, true));
    expect(rig.sFile(0).isEnabled(70)).toBe(true);
    expect(rig.sFile(0).isEnabled(40)).toBe(true);
    rig.sFile(0).setPending(40);
    expect(rig.run(0, imsicEixReadClear(40, true))).toBe(true);
    expect(rig.sFile(0).isPending(40)).toBe(false);
    expect(rig.run(0, imsicEixReadClear(40, true))).toBe(false);
  });

  test("set-up fails as Linux does without a supervisor IMSIC", () => {
    const r = ImsicDriver.setup({ imsics: [], cpus: [] }, new IrqTable());
    expect(r).toEqual({ ok: false, message: "riscv-imsic: no supervisor-level IMSIC in the device tree" });
  });
});
