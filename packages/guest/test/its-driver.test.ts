// The ITS driver against the bare GIC model: tables, queue, per-CPU LPIs,
// device mappings, LPI enable/disable, MSIs, and the command words.
import {
  GICD_CTLR,
  GICD_CTLR_ARE_NS,
  GICD_CTLR_ENABLE_SS_G1,
  GICR_CTLR,
  GICR_PENDBASER,
  GICR_PROPBASER,
  GITS_BASER,
  GITS_CBASER,
  GITS_CMD_INT,
  GITS_CREADR,
  GITS_CTLR,
  GITS_CWRITER,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  itsCommand,
} from "@irqlab/gic";
import { newGuestResult, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import * as B from "../src/arm/its-command-builders.js";
import { ITS_CMD_QUEUE_NR_ENTRIES } from "../src/arm/its-command-queue.js";
import { ItsDriver, KernelPages, parseItsTyper, type ItsDevice } from "../src/index.js";
import { GICR_BASE, ITS_BASE, ItsRig, type ItsRigOptions } from "./its-rig.js";

function boot(o: ItsRigOptions = {}): { rig: ItsRig; its: ItsDriver } {
  const rig = new ItsRig(o);
  const pages = new KernelPages(rig.platform);
  const res = rig.run(ItsDriver.probe(rig.gicInfo, rig.gicInfo.its[0]!, pages));
  if (!res.ok) throw new Error(res.message);
  for (const cpu of rig.cpus) expect(rig.run(res.its.cpuInit(cpu))).toBeUndefined();
  // The CPU interface and distributor as a GICv3 driver leaves them.
  rig.gic.distributor.write(GICD_CTLR, 4, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_SS_G1, 0);
  for (let pe = 0; pe < rig.cpus.length; pe++) {
    rig.gic.writeSysReg(pe, ICC_PMR_EL1, 0xf0);
    rig.gic.writeSysReg(pe, ICC_IGRPEN1_EL1, 1);
  }
  return { rig, its: res.its };
}

/** Acknowledges and EOIs every interrupt pending on `pe`; returns the INTIDs. */
function takeAll(rig: ItsRig, pe: number): number[] {
  const out: number[] = [];
  for (;;) {
    const intid = rig.gic.readSysReg(pe, ICC_IAR1_EL1);
    if (intid >= 1020 && intid <= 1023) return out;
    rig.gic.writeSysReg(pe, ICC_EOIR1_EL1, intid);
    out.push(intid);
  }
}

const read64 = (rig: ItsRig, addr: number): [number, number] => {
  const w = { hi: 0 };
  const lo = addr >= GICR_BASE ? rig.gic.redistributors.read(addr - GICR_BASE, 8, w) : rig.its.read(addr - ITS_BASE, 8, w);
  return [lo, w.hi];
};

describe("probe and per-CPU init (KVM's ITS)", () => {
  test("GITS_TYPER of KVM: 8-byte ITEs, 16 EventID and DeviceID bits, PTA = 0", () => {
    const { its } = boot();
    expect(its.typer).toEqual({ physical: true, virtual: false, ittEntrySize: 8, idBits: 16, devBits: 16, pta: false, cidBits: 16 });
    expect(parseItsTyper(0x1ef71, 0)).toEqual(its.typer);
  });

  test("tables: a two-level device table, a flat collection table, a 64 KiB queue, the ITS enabled", () => {
    const { rig, its } = boot();
    expect(its.tables.device).toMatchObject({ index: 0, indirect: true, entrySize: 8, bytes: 0x1_0000 });
    expect(its.tables.collection).toMatchObject({ index: 1, indirect: false, entrySize: 8, bytes: 0x1_0000 });
    const [, dhi] = read64(rig, ITS_BASE + GITS_BASER);
    expect(dhi >>> 30).toBe(3); // Valid | Indirect
    const [clo, chi] = read64(rig, ITS_BASE + GITS_CBASER);
    expect([clo & 0xff, chi >>> 31, (clo & ~0xfff) >>> 0]).toEqual([15, 1, its.queue.base]);
    expect(rig.its.read(GITS_CTLR, 4, { hi: 0 }) & 1).toBe(1);
    expect(rig.faults).toEqual([]);
  });

  test("each redistributor: PROPBASER with 16 ID bits, its own PENDBASER, EnableLPIs", () => {
    const { rig, its } = boot({ cpus: 3 });
    const pend = new Set<number>();
    for (let pe = 0; pe < 3; pe++) {
      const rd = GICR_BASE + pe * 0x2_0000;
      const [plo] = read64(rig, rd + GICR_PROPBASER);
      expect(plo & 0x1f).toBe(15);
      expect((plo & ~0xfff) >>> 0).toBe(its.lpis.propBase);
      pend.add((read64(rig, rd + GICR_PENDBASER)[0] & ~0xffff) >>> 0);
      expect(rig.gic.redistributors.read(pe * 0x2_0000 + GICR_CTLR, 4, { hi: 0 }) & 1).toBe(1);
    }
    expect(pend.size).toBe(3);
    // The property table: default priority, group 1, disabled.
    expect(rig.memory.readU8(its.lpis.propBase)).toBe(0xa2);
    expect(rig.memory.readU8(its.lpis.propBase + 0xdfff)).toBe(0xa2);
  });
});

describe("devices and LPIs", () => {
  function mapped(o: ItsRigOptions = {}, devId = 0x10, nvecs = 7, cpu = 1): { rig: ItsRig; its: ItsDriver; dev: ItsDevice } {
    const { rig, its } = boot(o);
    const dev = rig.run(its.mapDevice(devId, nvecs, cpu));
    if (dev === undefined) throw new Error("mapDevice failed");
    return { rig, its, dev };
  }

  test("mapDevice: a power-of-two ITT and as many LPIs from 8192, all disabled until enabled", () => {
    const { rig, its, dev } = mapped();
    expect([dev.nrItes, dev.lpiBase, dev.nrLpis, dev.itt % 256]).toEqual([8, 8192, 8, 0]);
    rig.msi(0x10, 3);
    expect(rig.gic.isLpiPending(1, 8195)).toBe(true);
    expect(takeAll(rig, 1)).toEqual([]); // pending but disabled
    rig.run(its.enableEvent(dev, 3));
    expect(takeAll(rig, 1)).toEqual([8195]);
    expect(takeAll(rig, 0)).toEqual([]);
  });

  test("DeviceID 0 gets room for 32 events (its_pci_msi_prepare)", () => {
    const { dev } = mapped({}, 0, 3, 0);
    expect([dev.nrItes, dev.nrLpis]).toEqual([32, 32]);
  });

  test("INT, disable + INV, DISCARD", () => {
    const { rig, its, dev } = mapped();
    for (let ev = 0; ev < 7; ev++) rig.run(its.enableEvent(dev, ev));
    rig.run(its.int(dev, 6));
    expect(takeAll(rig, 1)).toEqual([8198]);
    rig.run(its.disableEvent(dev, 6));
    rig.run(its.int(dev, 6));
    expect(takeAll(rig, 1)).toEqual([]);
    rig.run(its.enableEvent(dev, 6));
    expect(takeAll(rig, 1)).toEqual([8198]); // the pending LPI is delivered once enabled
    rig.run(its.discard(dev, 2));
    rig.msi(0x10, 2);
    expect(takeAll(rig, 1)).toEqual([]);
    expect(rig.its.commandErrors).toBe(0);
  });

  test("MOVI moves an event to another CPU's collection", () => {
    const { rig, its, dev } = mapped();
    rig.run(its.movi(dev, 0, its.collections.get(0)!));
    rig.run(its.enableEvent(dev, 0)); // the INV goes to the new collection's redistributor
    rig.msi(0x10, 0);
    expect([takeAll(rig, 0), takeAll(rig, 1)]).toEqual([[8192], []]);
  });

  test("unmapDevice gives the LPIs back; a second device reuses them", () => {
    const { rig, its, dev } = mapped();
    const before = its.lpis.freeCount;
    rig.run(its.unmapDevice(dev));
    expect(its.lpis.freeCount).toBe(before + 8);
    rig.msi(0x10, 0);
    expect(rig.gic.isLpiPending(1, 8192)).toBe(false);
    const again = rig.run(its.mapDevice(0x11, 4, 0))!;
    expect(again.lpiBase).toBe(8192);
  });

  test("QEMU's ITS keeps the tables in guest RAM: the two-level device table works there too", () => {
    const { rig, its, dev } = mapped({ profile: "qemu" }, 0x2345, 2, 0);
    expect(its.typer.ittEntrySize).toBe(12);
    rig.run(its.enableEvent(dev, 1));
    rig.msi(0x2345, 1);
    expect(takeAll(rig, 0)).toEqual([dev.lpiBase + 1]);
    // The level-1 entry of DeviceID 0x2345 (0x2345 >> 13 = 1) is Valid.
    const t = its.tables.device!;
    expect(rig.memory.readU32(t.base + 8 + 4) >>> 31).toBe(1);
  });

  test("a DeviceID beyond Devbits is refused before any command", () => {
    const { rig, its } = boot();
    const n = its.queue.commands;
    expect(rig.run(its.mapDevice(0x1_0000, 1))).toBeUndefined();
    expect(its.queue.commands).toBe(n);
  });
});

/** `code`, noting each op it yields (its kind, and a load's or store's size and address) in `ops`. */
function* recorded<T>(code: Generator<GuestOp, T, GuestResult>, ops: string[]): Generator<GuestOp, T, GuestResult> {
  // The first next()'s argument goes nowhere.
  let it = code.next(newGuestResult());
  while (it.done !== true) {
    const o = it.value;
    ops.push(o.kind === "mmio-read" || o.kind === "mmio-write" ? `${o.kind} ${o.size} @0x${o.addr.toString(16)}` : o.kind);
    it = code.next(yield o);
  }
  return it.value;
}

describe("the command queue", () => {
  test("commands are Linux's encodings (cross-checked against the GIC package's encoders)", () => {
    const c = B.newItsCommandBuffer();
    B.buildMapd(c, 0x10, 0x4123_4500, 8, true);
    expect([...c]).toEqual(itsCommand.mapd(0x10, 0x4123_4500, 2));
    B.buildMapc(c, 3, 3 * 0x1_0000, true);
    expect([...c]).toEqual(itsCommand.mapc(3, 3));
    B.buildMapti(c, 2, 20, 8195, 3);
    expect([...c]).toEqual(itsCommand.mapti(2, 20, 8195, 3));
    B.buildSync(c, 0x2_0000);
    expect([...c]).toEqual(itsCommand.sync(2));
    B.buildInvall(c, 7);
    expect([...c]).toEqual(itsCommand.invall(7));
    B.buildMovi(c, 1, 2, 3);
    expect([...c]).toEqual(itsCommand.movi(1, 2, 3));
  });

  test("the ring wraps: more commands than entries all complete, CREADR follows CWRITER", () => {
    const { rig, its } = boot({ cpus: 1 });
    const dev = rig.run(its.mapDevice(1, 1))!;
    const start = its.queue.commands;
    for (let i = 0; i < ITS_CMD_QUEUE_NR_ENTRIES / 2 + 10; i++) expect(rig.run(its.int(dev, 0))).toBe(true);
    expect(its.queue.commands - start).toBe(ITS_CMD_QUEUE_NR_ENTRIES + 20); // INT + SYNC each
    expect(rig.its.read(GITS_CREADR, 4, { hi: 0 })).toBe(its.queue.write);
    expect(its.errors).toEqual([]);
  });

  test("an ITS that does not process commands: 'ITS queue timeout' after one second of polling", () => {
    const { rig, its } = boot({ cpus: 1 });
    const dev = rig.run(its.mapDevice(1, 1))!;
    rig.its.write(GITS_CTLR, 4, 0, 0);
    rig.computeNs = 0;
    const at = its.queue.write;
    expect(rig.run(its.int(dev, 0))).toBe(false);
    // Byte offsets, as Linux prints them: INT + SYNC were posted, CREADR never moved.
    expect(its.errors).toEqual([`ITS queue timeout (${at + 64} ${at})`, "ITS cmd its_build_int_cmd failed"]);
    expect(rig.computeNs).toBe(999_999 * 1000);
  });

  test("kvm-unit-tests' its_send_single_command: the INT alone (no SYNC), CWRITER by an 8-byte store; 'INT timeout!' when CREADR never moves", () => {
    const { rig, its } = boot({ cpus: 2 });
    const dev = rig.run(its.mapDevice(1, 1, 1))!;
    rig.run(its.enableEvent(dev, 0));
    const c = B.newItsCommandBuffer();
    B.buildEventCommand(c, GITS_CMD_INT, dev.devId, 0);
    const at = its.queue.write;
    const commands = its.queue.commands;
    rig.computeNs = 0;
    const ops: string[] = [];
    expect(rig.run(recorded(its.queue.sendUnsynced(c), ops))).toBe(true);
    // The four stores of the command as one sequence, writeq(CWRITER), readq(CREADR).
    expect(ops).toEqual(["seq", `mmio-write 8 @0x${(ITS_BASE + GITS_CWRITER).toString(16)}`, `mmio-read 8 @0x${(ITS_BASE + GITS_CREADR).toString(16)}`]);
    expect(its.queue.commands - commands).toBe(1);
    expect(its.queue.write).toBe(at + 32);
    expect(rig.its.read(GITS_CREADR, 8, { hi: 0 })).toBe(at + 32);
    expect(rig.computeNs).toBe(0); // the in-kernel ITS has run the command by the first read
    expect(takeAll(rig, 1)).toEqual([dev.lpiBase]);
    // The ITS disabled: a million reads, udelay(1) between them, then the source's assert text.
    rig.its.write(GITS_CTLR, 4, 0, 0);
    expect(rig.run(its.queue.sendUnsynced(c))).toBe(false);
    expect(its.errors).toEqual(["INT timeout!"]);
    expect(rig.computeNs).toBe(999_999 * 1000);
    // The source's range check: a CREADR behind the next command's start counts as done.
    expect(rig.run(its.queue.sendUnsynced(c))).toBe(true);
    expect(its.errors).toEqual(["INT timeout!"]);
  });

  test("kvm-unit-tests' timeout names the command from its_cmd_string[]: a number up to 0xf it lacks is a NULL, above 0xf 'Unexpected'", () => {
    const timeout = (cmd: number): readonly string[] => {
      const { rig, its } = boot({ cpus: 1 });
      rig.its.write(GITS_CTLR, 4, 0, 0);
      const c = B.newItsCommandBuffer();
      c[0] = cmd;
      expect(rig.run(its.queue.sendUnsynced(c))).toBe(false);
      return its.errors;
    };
    expect(timeout(0x02)).toEqual([" timeout!"]);
    expect(timeout(0x2a)).toEqual(["Unexpected timeout!"]); // VMAPTI
    expect(timeout(0x0f)).toEqual(["DISCARD timeout!"]);
  });

  test("a full ring: its_allocate_entry waits one second; the command fails unposted, a SYNC without room is dropped and the command posted alone ('goto post')", () => {
    const { rig, its } = boot({ cpus: 1 });
    const dev = rig.run(its.mapDevice(1, 1))!;
    rig.its.write(GITS_CTLR, 4, 0, 0);
    const c = B.newItsCommandBuffer();
    B.buildEventCommand(c, GITS_CMD_INT, dev.devId, 0);
    // CREADR stays where it is: the ring holds NR_ENTRIES − 1 commands (its_queue_full keeps one slot free).
    const first = its.queue.write;
    for (let i = 0; i < ITS_CMD_QUEUE_NR_ENTRIES - 2; i++) expect(rig.run(its.queue.push(c))).toBe(true);
    const sync = B.newItsCommandBuffer();
    B.buildSync(sync, 0);
    rig.computeNs = 0;
    // One slot left: the INT takes it, the SYNC finds no room, the INT alone is posted and never completes.
    expect(rig.run(its.queue.send(c, sync, "its_build_int_cmd"))).toBe(false);
    const last = (first + (ITS_CMD_QUEUE_NR_ENTRIES - 1) * 32) % (ITS_CMD_QUEUE_NR_ENTRIES * 32);
    expect(its.queue.write).toBe(last);
    expect(rig.its.read(GITS_CWRITER, 4, { hi: 0 })).toBe(last);
    const to = last < first ? last + ITS_CMD_QUEUE_NR_ENTRIES * 32 : last;
    expect(its.errors).toEqual(["ITS queue not draining", `ITS queue timeout (${to} ${first})`, "ITS cmd its_build_int_cmd failed"]);
    // 999 999 udelay(1) for the allocation, as many for the wait.
    expect(rig.computeNs).toBe(2 * 999_999 * 1000);
    // Full: the next command is not written and nothing is posted.
    const commands = its.queue.commands;
    expect(rig.run(its.queue.send(c, undefined, "its_build_int_cmd"))).toBe(false);
    expect(its.queue.commands).toBe(commands);
    expect(its.errors.slice(3)).toEqual(["ITS queue not draining"]);
  });
});
