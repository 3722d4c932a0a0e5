// x-irqlab-msix-test: identity, BAR0 registers and the doorbell that notifies
// a vector through QEMU's MSI-X rules (msix_notify → msi_send_message).
import { ConfigError, Tracer } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import { MSIX_TEST_BAR0_SIZE, MSIX_TEST_DOORBELL, MSIX_TEST_ID, MSIX_TEST_ID_VALUE, MSIX_TEST_VECTORS, MsixTestFunction } from "./msix-test-device.js";
import { PcieHost } from "./pcie-host.js";
import * as R from "./pci-regs.js";

function rig() {
  const tracer = new Tracer();
  const sent: string[] = [];
  const host = new PcieHost({ tracer });
  const fn = new MsixTestFunction({ vectors: 4, tracer, sink: (lo, hi, data, rid) => sent.push(`${hi}:${lo.toString(16)} ${data} devid=${rid}`) });
  host.plug(fn, 5);
  const regs = fn.barDevice(0)!;
  const table = fn.barDevice(1)!;
  const wide = { hi: 0 };
  fn.configWrite(R.PCI_COMMAND, R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER, 2);
  return { tracer, sent, fn, regs, table, wide };
}

describe("x-irqlab-msix-test", () => {
  test("identity: 1234:11e9, class 0xff0000, QEMU default subsystem, no pin, BAR0 4 KiB, BAR1 the MSI-X BAR", () => {
    const { fn } = rig();
    expect(fn.configLong(R.PCI_VENDOR_ID)).toBe(0x11e91234);
    expect(fn.configLong(R.PCI_CLASS_REVISION)).toBe(0xff000000);
    expect(fn.configLong(R.PCI_SUBSYSTEM_VENDOR_ID)).toBe(0x11001af4);
    expect(fn.config[R.PCI_INTERRUPT_PIN]).toBe(0);
    expect([fn.barSize(0), fn.barSize(1), fn.barSize(2)]).toEqual([MSIX_TEST_BAR0_SIZE, 0x1000, 0]);
    expect(fn.configSize).toBe(256);
  });

  test("registers: ID and VECTORS read-only, DOORBELL write-only; the doorbell sends the vector's message", () => {
    const { fn, regs, table, wide, sent, tracer } = rig();
    expect(regs.read(MSIX_TEST_ID, 4, wide)).toBe(MSIX_TEST_ID_VALUE);
    expect(regs.read(MSIX_TEST_VECTORS, 4, wide)).toBe(4);
    table.write(2 * 16, 4, 0x08090040, 0);
    table.write(2 * 16 + 8, 4, 42, 0);
    table.write(2 * 16 + 12, 4, 0, 0);
    fn.configWrite(fn.msix.cap + 3, 0x80, 1);
    regs.write(MSIX_TEST_DOORBELL, 4, 2, 0);
    fn.notify(2);
    expect(sent).toEqual(["0:8090040 42 devid=40", "0:8090040 42 devid=40"]);
    expect(regs.read(MSIX_TEST_DOORBELL, 4, wide)).toBe(0);
    expect(tracer.guestErrors).toBe(0);
  });

  test("guest errors: other sizes, unknown registers, writes to read-only ones, a doorbell beyond the vectors", () => {
    const { regs, wide, tracer } = rig();
    expect(regs.read(MSIX_TEST_ID, 1, wide)).toBe(0);
    regs.write(MSIX_TEST_DOORBELL, 2, 0, 0);
    expect(regs.read(0x100, 4, wide)).toBe(0);
    regs.write(MSIX_TEST_ID, 4, 1, 0);
    regs.write(MSIX_TEST_DOORBELL, 4, 9, 0);
    expect(tracer.guestErrors).toBe(5);
    expect(regs.read(MSIX_TEST_ID, 8, wide)).toBe(MSIX_TEST_ID_VALUE);
    expect(wide.hi).toBe(4);
  });

  test("every offset at every size of BAR0 reads an unsigned value of the access width", () => {
    const { regs } = rig();
    const wide = { hi: 0 };
    for (const size of [1, 2, 4, 8] as const) {
      for (let off = 0; off + size <= MSIX_TEST_BAR0_SIZE; off++) {
        const v = regs.read(off, size, wide);
        expect(Number.isInteger(v) && v >= 0 && (size >= 4 ? v <= 0xffffffff : v < 2 ** (8 * size))).toBe(true);
        expect(size === 8 ? wide.hi >= 0 && wide.hi <= 0xffffffff : wide.hi === 0).toBe(true);
      }
    }
  });

  test("options are checked", () => {
    expect(() => new MsixTestFunction({ vectors: 0, sink: () => undefined })).toThrow(ConfigError);
    expect(() => new MsixTestFunction({ vectors: 4, vendorId: 0x10000, sink: () => undefined })).toThrow(ConfigError);
    expect(() => {
      rig().fn.notify(4);
    }).toThrow(ConfigError);
  });
});
