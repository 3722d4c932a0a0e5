// MSI-X against QEMU hw/pci/msix.c (msix_init, msix_write_config,
// msix_table_mmio_*, msix_pba_mmio_*, msix_handle_mask_update, msix_notify,
// msix_vector_use/unuse, msix_reset, msix_set/unset_vector_notifiers) and the
// PCI Local Bus Specification 3.0 §6.8.2, with x-irqlab-msix-test as the
// function that carries it.
import { Tracer, type AccessSize } from "@irqlab/sim";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { MsixTestFunction, msixExclusiveBarLayout } from "./msix-test-device.js";
import { PcieHost } from "./pcie-host.js";
import * as R from "./pci-regs.js";

const VECTORS = 8;

function rig(vectors = VECTORS) {
  const tracer = new Tracer();
  const sent: { v: number; lo: number; hi: number; data: number; rid: number }[] = [];
  const host = new PcieHost({ tracer });
  const fn = new MsixTestFunction({
    vectors,
    tracer,
    sink: (lo, hi, data, rid) => {
      sent.push({ v: data & 0xff, lo, hi, data, rid });
    },
  });
  host.plug(fn, 2);
  const msix = fn.msix;
  const bar = fn.barDevice(1)!;
  const wide = { hi: 0 };
  const cap = msix.cap;
  const cfg = (off: number, v: number, len: number) => {
    fn.configWrite(off, v, len);
  };
  const control = (enable: boolean, maskAll: boolean) => {
    cfg(cap + 3, (enable ? 0x80 : 0) | (maskAll ? 0x40 : 0), 1);
  };
  const entry = (v: number, field: number) => v * R.PCI_MSIX_ENTRY_SIZE + field;
  const tw = (off: number, value: number, size: AccessSize = 4, hi = 0) => {
    bar.write(off, size, value, hi);
  };
  const tr = (off: number, size: AccessSize = 4) => bar.read(off, size, wide);
  const program = (v: number, data: number) => {
    tw(entry(v, R.PCI_MSIX_ENTRY_LOWER_ADDR), 0x08090040);
    tw(entry(v, R.PCI_MSIX_ENTRY_UPPER_ADDR), 0);
    tw(entry(v, R.PCI_MSIX_ENTRY_DATA), data);
  };
  const mask = (v: number, m: boolean) => {
    tw(entry(v, R.PCI_MSIX_ENTRY_VECTOR_CTRL), m ? 1 : 0);
  };
  cfg(R.PCI_COMMAND, R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER, 2);
  const [, pbaOffset] = msixExclusiveBarLayout(vectors);
  return { tracer, sent, host, fn, msix, bar, wide, cap, cfg, control, entry, tw, tr, program, mask, pbaOffset };
}

describe("MSI-X capability and table at reset (msix_init)", () => {
  test("capability: ID 0x11, Table Size N − 1, table in BAR1 at 0, PBA in BAR1 at 0x800", () => {
    const { fn, cap } = rig();
    expect(cap).toBe(0x40);
    expect(fn.config[R.PCI_CAPABILITY_LIST]).toBe(0x40);
    expect(fn.configWord(R.PCI_STATUS) & R.PCI_STATUS_CAP_LIST).toBe(R.PCI_STATUS_CAP_LIST);
    expect(fn.configRead(cap, 4)).toBe(0x00070011);
    expect(fn.configRead(cap + R.PCI_MSIX_TABLE, 4)).toBe(0x00000001);
    expect(fn.configRead(cap + R.PCI_MSIX_PBA, 4)).toBe(0x00000801);
  });

  test("only Enable and Function Mask are writable in Message Control", () => {
    const { fn, cap, cfg } = rig();
    cfg(cap, 0xffffffff, 4);
    expect(fn.configRead(cap, 4)).toBe(0xc0070011);
    cfg(cap + R.PCI_MSIX_TABLE, 0xffffffff, 4);
    expect(fn.configRead(cap + R.PCI_MSIX_TABLE, 4)).toBe(1);
  });

  test("every entry reads address 0, data 0, Vector Control masked; the PBA reads 0", () => {
    const { tr, entry, pbaOffset } = rig();
    for (let v = 0; v < VECTORS; v++) {
      expect([0, 4, 8, 12].map((f) => tr(entry(v, f)))).toEqual([0, 0, 0, 1]);
    }
    expect(tr(pbaOffset)).toBe(0);
  });

  test("msix_init_exclusive_bar layout: 4 KiB with the PBA at 2 KiB up to 128 vectors; larger beyond", () => {
    expect(msixExclusiveBarLayout(7)).toEqual([4096, 2048]);
    expect(msixExclusiveBarLayout(128)).toEqual([4096, 2048]);
    expect(msixExclusiveBarLayout(256)).toEqual([8192, 4096]);
  });
});

describe("MSI-X delivery rules", () => {
  test("delivered at once when enabled, not function-masked and the entry unmasked; with the requester ID", () => {
    const { fn, sent, program, mask, control } = rig();
    program(3, 0x23);
    mask(3, false);
    control(true, false);
    fn.notify(3);
    expect(sent).toEqual([{ v: 0x23, lo: 0x08090040, hi: 0, data: 0x23, rid: 0x10 }]);
    expect(fn.msix.sent).toBe(1);
  });

  test("a masked entry latches the PBA bit; notifies merge; unmasking sends once and clears the bit", () => {
    const { fn, sent, program, mask, control, tr, pbaOffset } = rig();
    program(1, 0x11);
    control(true, false);
    fn.notify(1);
    fn.notify(1);
    expect(sent).toEqual([]);
    expect(tr(pbaOffset)).toBe(0x2);
    mask(1, false);
    expect(sent.map((s) => s.data)).toEqual([0x11]);
    expect(tr(pbaOffset)).toBe(0);
  });

  test("Function Mask and disabled MSI-X mask every vector; clearing them delivers what is pending", () => {
    const { fn, sent, program, mask, control, tr, pbaOffset } = rig();
    program(0, 0x10);
    program(5, 0x15);
    mask(0, false);
    mask(5, false);
    fn.notify(5); // MSI-X disabled
    control(true, true);
    fn.notify(0); // function masked
    expect(sent).toEqual([]);
    expect(tr(pbaOffset)).toBe(0x21);
    control(true, false);
    expect(sent.map((s) => s.data)).toEqual([0x10, 0x15]);
  });

  test("bus mastering off: the message is lost and counted as a guest error (not latched)", () => {
    const { fn, sent, program, mask, control, cfg, tracer, tr, pbaOffset } = rig();
    program(2, 0x12);
    mask(2, false);
    control(true, false);
    cfg(R.PCI_COMMAND, R.PCI_COMMAND_MEMORY, 2);
    fn.notify(2);
    expect(sent).toEqual([]);
    expect(tr(pbaOffset)).toBe(0);
    expect(tracer.counters.get("guest-error:x-irqlab-msix-test:msix")).toBe(1);
  });

  test("unused vectors are dropped; unuse clears the pending bit (msix_vector_unuse)", () => {
    const { fn, sent, program, control, tr, pbaOffset, mask } = rig();
    program(4, 0x14);
    control(true, false);
    fn.notify(4);
    expect(tr(pbaOffset)).toBe(0x10);
    fn.msix.vectorUnuse(4);
    expect(tr(pbaOffset)).toBe(0);
    fn.notify(4);
    mask(4, false);
    expect(sent).toEqual([]);
  });

  test("changing address/data of an unmasked entry takes effect for the next message only", () => {
    const { fn, sent, program, mask, control, tw, entry } = rig();
    program(6, 0x16);
    mask(6, false);
    control(true, false);
    tw(entry(6, R.PCI_MSIX_ENTRY_DATA), 0x26);
    fn.notify(6);
    expect(sent.map((s) => s.data)).toEqual([0x26]);
  });

  test("msix_reset: table cleared and masked, PBA cleared, Enable and Function Mask cleared", () => {
    const { fn, host, program, mask, control, tr, entry, pbaOffset, cap } = rig();
    program(1, 0x11);
    mask(1, false);
    control(true, true);
    fn.notify(1);
    host.reset();
    expect([0, 4, 8, 12].map((f) => tr(entry(1, f)))).toEqual([0, 0, 0, 1]);
    expect(tr(pbaOffset)).toBe(0);
    expect(fn.config[cap + 3]).toBe(0);
  });

  test("QEMU quirk: msix_reset leaves the cached function mask, so after a reset from an enabled state an unmasked entry delivers before MSI-X is re-enabled", () => {
    const { fn, sent, host, program, mask, control, cfg } = rig();
    control(true, false);
    host.reset();
    cfg(R.PCI_COMMAND, R.PCI_COMMAND_MEMORY | R.PCI_COMMAND_MASTER, 2);
    expect(fn.msix.enabled).toBe(false);
    expect(fn.msix.functionMasked).toBe(false);
    program(0, 0x10);
    mask(0, false);
    fn.notify(0);
    expect(sent.map((s) => s.data)).toEqual([0x10]);
    control(false, false); // any write of the control byte re-evaluates it
    expect(fn.msix.functionMasked).toBe(true);
  });
});

describe("MSI-X table and PBA accesses", () => {
  test("8-byte accesses are two 4-byte ones; 1- and 2-byte accesses are guest errors (valid 4..8)", () => {
    const { tw, tr, entry, wide, bar, tracer } = rig();
    tw(entry(0, 0), 0x11223344, 8, 0x55667788);
    expect(bar.read(entry(0, 0), 8, wide)).toBe(0x11223344);
    expect(wide.hi).toBe(0x55667788);
    expect(tr(entry(0, 0), 2)).toBe(0);
    tw(entry(0, 0), 0, 1);
    expect(tr(entry(0, 0))).toBe(0x11223344);
    expect(tracer.counters.get("guest-error:x-irqlab-msix-test:msix-table")).toBe(2);
  });

  test("PBA writes are ignored without a log; the poll notifier sees the vectors read", () => {
    const { fn, tw, tr, pbaOffset, tracer } = rig();
    const polls: string[] = [];
    fn.msix.setVectorNotifiers({ use: () => undefined, release: () => undefined, poll: (s, e) => polls.push(`${s}-${e}`) });
    tw(pbaOffset, 0xff);
    expect(tr(pbaOffset)).toBe(0);
    expect(tracer.guestErrors).toBe(0);
    expect(polls).toEqual(["0-8", "0-8"]);
  });

  test("the rest of the exclusive BAR is unassigned: reads 0, and a guest error", () => {
    const { tr, tracer } = rig();
    expect(tr(0x200)).toBe(0);
    expect(tracer.counters.get("guest-error:x-irqlab-msix-test:bar")).toBe(1);
  });

  test("every offset at every size of the MSI-X BAR reads an unsigned value of the access width", () => {
    const { bar } = rig();
    const wide = { hi: 0 };
    for (const size of [1, 2, 4, 8] as const) {
      for (let off = 0; off + size <= 0x1000; off++) {
        const v = bar.read(off, size, wide);
        expect(Number.isInteger(v) && v >= 0 && (size >= 4 ? v <= 0xffffffff : v < 2 ** (8 * size))).toBe(true);
        expect(size === 8 ? wide.hi >= 0 && wide.hi <= 0xffffffff : wide.hi === 0).toBe(true);
      }
    }
  });
});

describe("MSI-X vector notifiers (msix_set_vector_notifiers)", () => {
  test("use on unmask with the message, release on mask; set/unset call them for unmasked vectors when enabled", () => {
    const { fn, program, mask, control } = rig();
    const log: string[] = [];
    program(1, 0x11);
    program(2, 0x12);
    mask(1, false);
    control(true, false);
    fn.msix.setVectorNotifiers({ use: (v, m) => log.push(`use ${v} ${m.data.toString(16)}`), release: (v) => log.push(`release ${v}`) });
    mask(2, false);
    mask(1, true);
    control(true, true);
    control(true, false);
    fn.msix.unsetVectorNotifiers();
    expect(log).toEqual(["use 1 11", "use 2 12", "release 1", "release 2", "use 2 12", "release 2"]);
  });
});

type Op =
  | { readonly k: "notify"; readonly v: number }
  | { readonly k: "mask"; readonly v: number; readonly m: boolean }
  | { readonly k: "control"; readonly enable: boolean; readonly maskAll: boolean }
  | { readonly k: "data"; readonly v: number; readonly gen: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ k: fc.constant("notify" as const), v: fc.integer({ min: 0, max: VECTORS - 1 }) }),
  fc.record({ k: fc.constant("mask" as const), v: fc.integer({ min: 0, max: VECTORS - 1 }), m: fc.boolean() }),
  fc.record({ k: fc.constant("control" as const), enable: fc.boolean(), maskAll: fc.boolean() }),
  fc.record({ k: fc.constant("data" as const), v: fc.integer({ min: 0, max: VECTORS - 1 }), gen: fc.integer({ min: 1, max: 255 }) }),
);

describe("MSI-X properties", () => {
  test("a notify is delivered exactly once, either now or at the unmask that follows, never while masked or disabled", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const r = rig();
        // Reference model of the specification's rule.
        let enabled = false;
        let maskAll = false;
        const entryMasked = new Array<boolean>(VECTORS).fill(true);
        const data = Array.from({ length: VECTORS }, (_, v) => v);
        const pending = new Array<boolean>(VECTORS).fill(false);
        const expected: number[] = [];
        const deliverable = (v: number) => enabled && !maskAll && !entryMasked[v];
        const sentWhileMasked: number[] = [];
        r.fn.msix.setVectorNotifiers({ use: () => undefined, release: () => undefined });
        for (let v = 0; v < VECTORS; v++) r.program(v, v);
        const before = () => Array.from({ length: VECTORS }, (_, v) => deliverable(v));
        const flush = (was: boolean[]) => {
          for (let v = 0; v < VECTORS; v++) {
            if (!was[v] && deliverable(v) && pending[v]) {
              pending[v] = false;
              expected.push(data[v]!);
            }
          }
        };
        const sinkCheck = r.sent.length;
        for (const op of ops) {
          const was = before();
          const sentBefore = r.sent.length;
          switch (op.k) {
            case "notify":
              if (deliverable(op.v)) expected.push(data[op.v]!);
              else pending[op.v] = true;
              r.fn.notify(op.v);
              break;
            case "mask":
              entryMasked[op.v] = op.m;
              r.mask(op.v, op.m);
              break;
            case "control":
              enabled = op.enable;
              maskAll = op.maskAll;
              r.control(op.enable, op.maskAll);
              break;
            case "data":
              data[op.v] = (op.gen << 8) | op.v;
              r.tw(r.entry(op.v, R.PCI_MSIX_ENTRY_DATA), data[op.v]!);
              break;
          }
          flush(was);
          for (const s of r.sent.slice(sentBefore)) {
            const v = s.data & 0xff;
            if (!(r.fn.msix.enabled && !r.fn.msix.maskAll && !r.fn.msix.entryMasked(v))) sentWhileMasked.push(v);
          }
        }
        expect(sentWhileMasked).toEqual([]);
        expect(r.sent.slice(sinkCheck).map((s) => s.data)).toEqual(expected);
        for (let v = 0; v < VECTORS; v++) expect(r.fn.msix.isPending(v)).toBe(pending[v]);
      }),
      { numRuns: 300, seed: 1 },
    );
  });

  test("with MSI-X enabled, the vector notifiers track exactly the unmasked vectors, use and release alternating", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ k: fc.constant("mask" as const), v: fc.integer({ min: 0, max: VECTORS - 1 }), m: fc.boolean() }),
            fc.record({ k: fc.constant("maskAll" as const), m: fc.boolean() }),
          ),
          { maxLength: 40 },
        ),
        (ops) => {
          const r = rig();
          r.control(true, false);
          const active = new Array<boolean>(VECTORS).fill(false);
          let violations = 0;
          r.fn.msix.setVectorNotifiers({
            use: (v) => {
              if (active[v]) violations++;
              active[v] = true;
            },
            release: (v) => {
              if (!active[v]) violations++;
              active[v] = false;
            },
          });
          let maskAll = false;
          const entryMasked = new Array<boolean>(VECTORS).fill(true);
          for (const op of ops) {
            if (op.k === "mask") {
              entryMasked[op.v] = op.m;
              r.mask(op.v, op.m);
            } else {
              maskAll = op.m;
              r.control(true, op.m);
            }
            for (let v = 0; v < VECTORS; v++) expect(active[v]).toBe(!maskAll && !entryMasked[v]);
          }
          expect(violations).toBe(0);
        },
      ),
      { numRuns: 200, seed: 2 },
    );
  });
});
