/**
 * The GICv3 driver against the bare @irqlab/gic model (no KVM), on the test
 * executor of gic-executor.ts: distributor and CPU bring-up leave the state
 * Linux's irq-gic-v3.c leaves, each CPU finds its own redistributor, the
 * per-interrupt operations hit the right registers, SGIs are encoded as
 * gic_send_sgi encodes them, and the flow handler acknowledges, dispatches
 * and completes.
 */

import {
  GICD_CTLR,
  GICD_ICFGR,
  GICD_IGROUPR,
  GICD_IPRIORITYR,
  GICD_IROUTER,
  GICD_ISENABLER,
  GICR_WAKER,
  Gicv3,
  ICC_CTLR_EL1,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  ICC_SGI1R_EL1,
} from "@irqlab/gic";
import { op, sysReg, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  boot,
  gicCpuInit,
  gicHandleIrq,
  gicIrqVector,
  gicSendSgi,
  gicSendSgiBroadcast,
  Gicv3Driver,
  halt,
  psciSystemOff,
  setCpuId,
  type CpuInfo,
  type Gicv3Info,
  type GuestCode,
  type GuestImage,
} from "../src/index.js";
import { runGicGuest } from "./gic-executor.js";
import { armVirtTree } from "./trees.js";

const DIST = 0x0800_0000;
const REDIST = 0x080a_0000;

/** An image whose boot CPU boots, brings the GIC up, runs `body`, and powers off. */
function bringUp(body: (drv: Gicv3Driver) => GuestCode, log: string[]): GuestImage {
  return {
    main: function* (regs) {
      const sys = yield* boot(regs, { arch: "aarch64" });
      const drv = new Gicv3Driver(sys.platform.gic!, sys.platform.cpus);
      yield* setCpuId(0);
      log.push(`dist ${String(yield* drv.initDist())}`);
      log.push(`cpu0 ${String(yield* gicCpuInit(drv, 0))}`);
      yield* body(drv);
      yield* psciSystemOff(sys.psci);
      return yield* halt();
    },
  };
}

describe("gic_dist_init and gic_cpu_init on the bare GICv3", () => {
  test("leave Linux's state: ARE | Grp1 | Grp0, SPIs Group 1, level, 0xa0, disabled, routed to CPU 0; PMR 0xf0, EOImode 0, IGRPEN1", () => {
    const log: string[] = [];
    const gic = new Gicv3({ cpus: 2, profile: "qemu" });
    // Dirty state a firmware could leave: an SPI enabled, edge, priority 0.
    gic.distributor.write(GICD_ISENABLER + 4, 4, 0xffff_ffff, 0);
    gic.distributor.write(GICD_ICFGR + 8, 4, 0xaaaa_aaaa, 0);
    gic.distributor.write(GICD_IPRIORITYR + 40, 1, 0, 0);
    const r = runGicGuest({ image: bringUp(function* () {
      yield op.compute(1);
    }, log), blob: armVirtTree({ cpus: 2, its: false }), cpus: 2, gic });
    expect(r.stop).toBe("power");
    expect(r.faults).toEqual([]);
    expect(log).toEqual(["dist true", "cpu0 undefined"]);
    const d = (off: number, size: 1 | 4 = 4) => gic.distributor.read(off, size, { hi: 0 });
    expect(d(GICD_CTLR) & 0x13).toBe(0x13);
    expect(d(GICD_IGROUPR + 4)).toBe(0xffff_ffff);
    expect(d(GICD_ISENABLER + 4)).toBe(0);
    expect(d(GICD_ICFGR + 8)).toBe(0);
    expect(d(GICD_IPRIORITYR + 40, 1)).toBe(0xa0);
    const wide = { hi: 0 };
    expect(gic.distributor.read(GICD_IROUTER + 40 * 8, 8, wide)).toBe(0);
    expect(wide.hi).toBe(0);
    // QEMU's redistributor models GICR_WAKER: ProcessorSleep and ChildrenAsleep are clear after the handshake.
    expect(gic.redistributors.read(GICR_WAKER, 4, { hi: 0 })).toBe(0);
    // CPU 1's redistributor was not woken: it never ran gic_cpu_init.
    expect(gic.redistributors.read(0x2_0000 + GICR_WAKER, 4, { hi: 0 })).toBe(0x6);
    expect(gic.readSysReg(0, ICC_PMR_EL1)).toBe(0xf0);
    expect(gic.readSysReg(0, ICC_CTLR_EL1) & 2).toBe(0);
    expect(gic.readSysReg(0, ICC_IGRPEN1_EL1)).toBe(1);
  });

  test("each CPU finds the redistributor whose GICR_TYPER affinity is its MPIDR; one without gets Linux's message", () => {
    const found: string[] = [];
    // PE 3 has affinity 0.0.1.0, which no cpu node names: cpu@3 (MPIDR 3) has no redistributor.
    const gic = new Gicv3({ cpus: 4, affinities: [0, 1, 2, 0x100] });
    const image = bringUp(function* (drv) {
      for (let c = 1; c < 4; c++) {
        const slot = yield* drv.findRedistributor(c);
        found.push(slot === undefined ? `CPU${c}: none` : `CPU${c}: 0x${slot.rdBase.toString(16)}`);
      }
      found.push(String(yield* gicCpuInit(drv, 3)));
    }, []);
    runGicGuest({ image, blob: armVirtTree({ cpus: 4, its: false }), cpus: 4, gic });
    expect(found).toEqual(["CPU1: 0x80c0000", "CPU2: 0x80e0000", "CPU3: none", "CPU3: mpidr 3 has no re-distributor!"]);
  });

  test("per-interrupt operations: enable/disable, priority, trigger (SGI level and a KVM PPI are EINVAL), routing, active", () => {
    const gic = new Gicv3({ cpus: 2 });
    const rc: number[] = [];
    const image = bringUp(function* (drv) {
      yield* drv.enableIrq(40);
      yield* drv.setPriority(40, 0x80);
      rc.push(yield* drv.setType(40, true));
      rc.push(yield* drv.setType(5, false));
      rc.push(yield* drv.setType(27, true));
      rc.push(yield* drv.setAffinity(40, 1));
      rc.push(yield* drv.setAffinity(2000, 1));
      yield* drv.enableIrq(20, 0);
      yield* drv.setActive(40, true);
      yield* drv.disableIrq(41);
    }, []);
    runGicGuest({ image, blob: armVirtTree({ cpus: 2, its: false }), cpus: 2, gic });
    expect(rc).toEqual([0, -22, -22, 0, -22]);
    const s40 = gic.irqs.status(0, 40);
    expect(s40).toMatchObject({ enabled: true, priority: 0x80, edge: true, active: true });
    const wide = { hi: 0 };
    expect(gic.distributor.read(GICD_IROUTER + 40 * 8, 8, wide)).toBe(1);
    expect(gic.irqs.status(0, 20).enabled).toBe(true);
    expect(gic.irqs.status(1, 20).enabled).toBe(false);
  });
});

/** Runs a driver generator by hand, answering nothing, and returns the ICC_SGI1R_EL1 writes as 64-bit hex. */
function sgiWrites(code: GuestCode): string[] {
  const out: string[] = [];
  const res: GuestResult = { value: 0, hi: 0, error: 0, regs: [] };
  for (let it = code.next(res); it.done !== true; it = code.next(res)) {
    const o: GuestOp = it.value;
    if (o.kind === "sysreg-write" && o.reg === ICC_SGI1R_EL1) out.push(`${o.hi.toString(16)}:${o.value.toString(16).padStart(8, "0")}`);
  }
  return out;
}

describe("gic_ipi_send_mask", () => {
  const cpu = (logical: number, hwid: number): CpuInfo => ({ logical, path: `/cpus/cpu@${hwid}`, hwid, enableMethod: "psci", isa: undefined, intcPhandle: undefined });
  const info = { path: "/intc", phandle: 1, interruptCells: 3, distributor: { base: DIST, size: 0x1_0000 }, redistributorRegions: [{ base: REDIST, size: 0xf6_0000 }], redistributorStride: undefined, otherRegions: [], its: [] };

  test("one write per cluster: target list in [15:0], Aff1 in [23:16], INTID in [27:24], Aff2 [39:32], RS [47:44], Aff3 [55:48]", () => {
    const drv = new Gicv3Driver(info, [cpu(0, 0x0), cpu(1, 0x1), cpu(2, 0x3), cpu(3, 0x100), cpu(4, 0x12), cpu(5, 0x1_0002_0304)]);
    expect(sgiWrites(gicSendSgi(drv, 5, [5, 4, 3, 2, 1, 0]))).toEqual([
      "0:0500000b", // CPUs 0, 1, 3 of cluster 0.0.0.0x: Aff0 bits 0, 1, 3
      "0:05010001", // Aff1 = 1
      "1000:05000004", // Aff0 0x12: RS = 1, bit 2
      "10002:05030010", // Aff3 = 1, Aff2 = 2, Aff1 = 3, Aff0 4
    ]);
  });

  test("broadcast sets IRM (bit 40) and no target list", () => {
    expect(sgiWrites(gicSendSgiBroadcast(1))).toEqual(["100:01000000"]);
  });
});

describe("gic_handle_irq", () => {
  test("acknowledges, dispatches by INTID with the CPU from TPIDR_EL1, EOIs; 1023 is counted as spurious, an unhandled one still EOIed", () => {
    const seen: string[] = [];
    let drvRef: Gicv3Driver | undefined;
    const gic = new Gicv3({ cpus: 2 });
    const image: GuestImage = {
      ...bringUp(function* (drv) {
        drvRef = drv;
        drv.irqs.register(3, function* (irq, c) {
          seen.push(`SGI ${irq} on CPU ${c}`);
          yield op.compute(1);
        });
        yield* drv.enableIrq(3, 0);
        yield* drv.enableIrq(4, 0);
        yield* gicSendSgi(drv, 3, [0]);
        yield* gicSendSgi(drv, 4, [0]);
        yield op.unmask();
        yield op.compute(100);
        yield op.mask();
        // A vector entered with nothing pending reads 1023.
        yield* gicHandleIrq(drv);
      }, []),
      vector: function* () {
        yield* gicHandleIrq(drvRef!);
      },
    };
    const r = runGicGuest({ image, blob: armVirtTree({ cpus: 2, its: false }), cpus: 2, gic });
    expect(r.stop).toBe("power");
    expect(seen).toEqual(["SGI 3 on CPU 0"]);
    expect(r.taken[0]).toBe(2);
    expect(drvRef!.irqs.unhandled).toBe(1);
    expect(drvRef!.spurious).toEqual([1, 0]);
    // Both were deactivated (EOImode 0): nothing active, nothing pending, running priority idle.
    expect(gic.irqs.status(0, 3)).toMatchObject({ active: false, pending: false });
    expect(gic.irqs.status(0, 4)).toMatchObject({ active: false, pending: false });
  });

  test("gicIrqVector: the vector entry starts with gic_handle_irq's acknowledge, or returns at once before the driver exists; one EOIR op per INTID", () => {
    const ref: { drv?: Gicv3Driver } = {};
    const vector = gicIrqVector(() => ref.drv);
    // No driver yet: the entry returns before any op.
    expect(vector(0).next().done).toBe(true);
    const drv = new Gicv3Driver({ distributor: { base: DIST, size: 0x1_0000 }, redistributors: [], its: [] } as unknown as Gicv3Info, []);
    ref.drv = drv;
    const entry = vector(0);
    // Its first op is gic_handle_irq's acknowledge: the read of ICC_IAR1_EL1.
    expect(entry.next().value).toEqual(op.mrs(ICC_IAR1_EL1));
    expect(drv.eoir(27)).toBe(drv.eoir(27));
    expect(drv.eoir(27)).toEqual(op.msr(ICC_EOIR1_EL1, 27));
    expect(drv.eoir(8192)).toEqual(op.msr(ICC_EOIR1_EL1, 8192));
  });

  /** The ops a vector program yields when ICC_IAR1_EL1 reads `intid` and TPIDR_EL1 `cpu`; every other op reads 7. */
  function opsOf(program: Generator<GuestOp, unknown, GuestResult>, intid: number, cpu: number): GuestOp[] {
    const ops: GuestOp[] = [];
    let it = program.next(undefined as unknown as GuestResult);
    while (it.done !== true) {
      const o = it.value;
      ops.push(o);
      const value = o.kind === "sysreg-read" && o.reg === ICC_IAR1_EL1 ? intid : ops.length === 2 ? cpu : 7;
      it = program.next({ value, hi: 0, error: 0, regs: [] });
    }
    return ops;
  }

  test("gicIrqVector's entries yield gic_handle_irq's ops, resume the handler as its yield* does, and are reused once returned", () => {
    const drv = new Gicv3Driver({ distributor: { base: DIST, size: 0x1_0000 }, redistributors: [], its: [] } as unknown as Gicv3Info, []);
    const results: number[] = [];
    drv.irqs.register(27, function* (irq, cpu) {
      // Each yield gets the result of its own op, as inside yield*.
      results.push((yield op.compute(irq)).value, (yield op.compute(cpu)).value);
    });
    // A handler that is one op (IrqAction): yielded as it is, between the acknowledge and the EOI.
    drv.irqs.register(28, op.compute(28));
    const vector = gicIrqVector(() => drv);
    expect(opsOf(vector(0), 28, 0)).toEqual([op.mrs(ICC_IAR1_EL1), op.mrs(sysReg(3, 0, 13, 0, 4)), op.compute(28), op.msr(ICC_EOIR1_EL1, 28)]);
    for (const [intid, cpu] of [[27, 1], [28, 1], [30, 0], [1023, 0], [1020, 1]] as const) {
      expect(opsOf(vector(0), intid, cpu)).toEqual(opsOf(gicHandleIrq(drv), intid, cpu));
    }
    expect(results).toEqual([7, 7, 7, 7]);
    // Returned entries are reused; two in flight (a nested interrupt) are distinct.
    const a = vector(0);
    opsOf(a, 30, 0);
    // (Identity compared by hand: vitest's toBe walks iterables, which would run them.)
    const b = vector(0);
    expect(b === a).toBe(true);
    const c = vector(0);
    expect(c === b).toBe(false);
    // One ended from outside is done for good and never handed out again.
    expect(b.return(undefined).done).toBe(true);
    expect(b.next(undefined as unknown as GuestResult).done).toBe(true);
    opsOf(c, 30, 0);
    expect(vector(0) === c).toBe(true);
    expect(vector(0) === b).toBe(false);
  });
});
