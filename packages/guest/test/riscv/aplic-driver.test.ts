import { APLIC_DOMAINCFG, APLIC_IDC_BASE, APLIC_IDC_IDELIVERY, APLIC_SOURCECFG_BASE, APLIC_TARGET_BASE } from "@irqlab/aia";
import { describe, expect, test } from "vitest";
import { IrqTable } from "../../src/irq/irq-table.js";
import { AplicDirectDriver } from "../../src/riscv/aplic-direct.js";
import { IRQ_TYPE_EDGE_RISING, IRQ_TYPE_LEVEL_HIGH, sourceMode } from "../../src/riscv/aplic-driver.js";
import { AplicMsiDriver } from "../../src/riscv/aplic-msi.js";
import { ImsicDriver, type ImsicVector } from "../../src/riscv/imsic-driver.js";
import { AiaRig } from "./aia-rig.js";

const unmask = function* () {
  yield { kind: "irq-unmask" } as const;
};

describe("APLIC driver, MSI mode (irq-riscv-aplic-msi.c) on a bare APLIC + IMSICs", () => {
  function msiSetup() {
    const rig = new AiaRig({ harts: 4 });
    const imsicSetup = ImsicDriver.setup(rig.platform, new IrqTable());
    if (!imsicSetup.ok) throw new Error(imsicSetup.message);
    const imsic = imsicSetup.driver;
    const info = AplicMsiDriver.find(rig.platform)!;
    const made = AplicMsiDriver.create(info, imsic);
    if (!made.ok) throw new Error(made.message);
    const aplic = made.driver;
    rig.vector = (cpu, cause) => (function* () {
      if (cause === 9) yield* imsic.handleIrq(cpu);
    })();
    for (let c = 0; c < 4; c++) rig.run(c, imsic.startingCpu(c));
    for (let c = 0; c < 4; c++) rig.run(c, unmask());
    return { rig, imsic, aplic };
  }

  test("set-up: msicfg from the IMSIC, IE and DM in domaincfg, Linux's line", () => {
    const { rig, aplic } = msiSetup();
    expect(aplic.msicfg).toEqual({ lhxs: 0, lhxw: 2, hhxw: 0, hhxs: 0, basePpn: 0x28000 });
    const lines = rig.run(0, aplic.setup());
    expect(lines).toEqual(["riscv-aplic interrupt-controller@d000000: 96 interrupts forwarded to MSI base 0x0000000028000000"]);
    expect(rig.aplic.domain("s").read(APLIC_DOMAINCFG, 4, { hi: 0 }) >>> 0).toBe(0x8000_0104);
    expect(aplic.targetFor(0x2800_3000, 5)).toBe((3 << 18) | 5);
  });

  test("a level source: MSI to the vector's hart, handler, and the setipnum_le re-trigger while the line stays high", () => {
    const { rig, aplic } = msiSetup();
    rig.run(0, aplic.setup());
    let calls = 0;
    const at: number[] = [];
    const vec = rig.run(
      0,
      aplic.requestIrq(10, IRQ_TYPE_LEVEL_HIGH, function* (_irq, cpu) {
        yield* [];
        calls++;
        at.push(cpu);
        if (calls === 2) rig.aplic.setWire(10, false); // the device drops its line on the second pass
      }),
    ) as ImsicVector;
    expect(typeof vec).toBe("object");
    const d = rig.aplic.domain("s");
    expect(d.read(APLIC_SOURCECFG_BASE + 9 * 4, 4, { hi: 0 })).toBe(sourceMode(IRQ_TYPE_LEVEL_HIGH));
    expect(d.read(APLIC_TARGET_BASE + 9 * 4, 4, { hi: 0 }) >>> 0).toBe(((vec.cpu << 18) | vec.localId) >>> 0);
    rig.aplic.setWire(10, true);
    rig.poll(vec.cpu);
    expect(calls).toBe(2);
    expect(at).toEqual([vec.cpu, vec.cpu]);
    rig.poll(vec.cpu);
    expect(calls).toBe(2);
    expect(aplic.unhandled).toBe(0);
  });

  test("an edge source interrupts once per rising edge", () => {
    const { rig, aplic } = msiSetup();
    rig.run(0, aplic.setup());
    let calls = 0;
    const vec = rig.run(
      1,
      aplic.requestIrq(
        33,
        IRQ_TYPE_EDGE_RISING,
        function* () {
          yield* [];
          calls++;
        },
        [2],
        1,
      ),
    ) as ImsicVector;
    expect(vec.cpu).toBe(2);
    rig.aplic.setWire(33, true);
    rig.poll(2);
    rig.aplic.setWire(33, false);
    rig.poll(2);
    expect(calls).toBe(0); // enabled from CPU 1: hart 2 syncs its eie at its next IMSIC interrupt
    rig.run(1, aplic.imsic.sendIpi(2));
    expect(calls).toBe(1);
    rig.aplic.setWire(33, true);
    rig.poll(2);
    expect(calls).toBe(2);
  });

  test("bad requests: source 0, a second request, an unknown type", () => {
    const { rig, aplic } = msiSetup();
    rig.run(0, aplic.setup());
    const h = function* () {
      yield* [];
    };
    expect(rig.run(0, aplic.requestIrq(0, IRQ_TYPE_LEVEL_HIGH, h))).toBe(-22);
    expect(rig.run(0, aplic.requestIrq(97, IRQ_TYPE_LEVEL_HIGH, h))).toBe(-22);
    expect(rig.run(0, aplic.requestIrq(5, 3, h))).toBe(-22);
    expect(typeof rig.run(0, aplic.requestIrq(5, IRQ_TYPE_LEVEL_HIGH, h))).toBe("object");
    expect(rig.run(0, aplic.requestIrq(5, IRQ_TYPE_LEVEL_HIGH, h))).toBe(-22);
  });
});

describe("APLIC driver, direct mode (irq-riscv-aplic-direct.c) on a bare APLIC", () => {
  function directSetup() {
    const rig = new AiaRig({ harts: 4, direct: true });
    const table = new IrqTable();
    const info = AplicDirectDriver.find(rig.platform)!;
    const aplic = new AplicDirectDriver(info, rig.platform, table);
    rig.vector = (cpu, cause) => (function* () {
      if (cause === 9) yield* aplic.handleIrq(cpu);
    })();
    return { rig, aplic, table };
  }

  test("set-up: every IDC delivering, IE without DM, Linux's line", () => {
    const { rig, aplic } = directSetup();
    expect(rig.platform.imsics).toEqual([]);
    expect(rig.run(0, aplic.setup())).toEqual(["riscv-aplic interrupt-controller@d000000: 96 interrupts directly connected to 4 CPUs"]);
    const d = rig.aplic.domain("s");
    expect(d.read(APLIC_DOMAINCFG, 4, { hi: 0 }) >>> 0).toBe(0x8000_0100);
    for (let i = 0; i < 4; i++) expect(d.read(APLIC_IDC_BASE + 32 * i + APLIC_IDC_IDELIVERY, 4, { hi: 0 })).toBe(1);
  });

  test("a level source on CPU 1: target, claimi loop, dispatch by source; the line dropping ends it", () => {
    const { rig, aplic, table } = directSetup();
    rig.run(0, aplic.setup());
    for (let c = 0; c < 4; c++) rig.run(c, aplic.startingCpu(c));
    const seen: string[] = [];
    table.register(10, function* (irq, cpu) {
      yield* [];
      seen.push(`${irq}@${cpu}`);
      rig.aplic.setWire(10, false);
    });
    expect(rig.run(0, aplic.enableIrq(10, IRQ_TYPE_LEVEL_HIGH, 1))).toBe(0);
    const d = rig.aplic.domain("s");
    expect(d.read(APLIC_TARGET_BASE + 9 * 4, 4, { hi: 0 }) >>> 0).toBe((1 << 18) | 1);
    for (let c = 0; c < 4; c++) rig.run(c, unmask());
    rig.aplic.setWire(10, true);
    rig.poll(1);
    expect(seen).toEqual(["10@1"]);
    expect(rig.taken).toEqual(["cpu1:9"]);
  });

  test("two sources pending: claimed by priority then number; an unregistered one is counted", () => {
    const { rig, aplic, table } = directSetup();
    rig.run(0, aplic.setup());
    rig.run(0, aplic.startingCpu(0));
    const order: number[] = [];
    table.register(20, function* () {
      yield* [];
      order.push(20);
    });
    expect(rig.run(0, aplic.enableIrq(20, IRQ_TYPE_EDGE_RISING, 0))).toBe(0);
    expect(rig.run(0, aplic.enableIrq(7, IRQ_TYPE_EDGE_RISING, 0))).toBe(0);
    rig.aplic.setWire(20, true);
    rig.aplic.setWire(7, true);
    expect(rig.run(0, aplic.handleIrq(0))).toBe(2);
    expect(order).toEqual([20]);
    expect(aplic.unhandled).toBe(1);
    expect(rig.run(0, aplic.enableIrq(0, IRQ_TYPE_EDGE_RISING, 0))).toBe(-22);
    expect(rig.run(0, aplic.enableIrq(8, 12, 0))).toBe(-22);
  });
});
