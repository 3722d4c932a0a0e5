/**
 * The arm64 guest of the conservation target, written against architectural
 * registers and guest memory only, in the order Linux's irq-gic-v3.c and
 * irq-gic-v3-its.c bring things up: the distributor and the edge SPIs
 * (GICD_CTLR, ICFGR, IPRIORITYR, ISENABLER), the CPU interface of every vCPU
 * (ICC_PMR_EL1, ICC_IGRPEN1_EL1); then, on vCPU 0, the LPI configuration
 * table, each redistributor's GICR_PROPBASER / GICR_PENDBASER and
 * GICR_CTLR.EnableLPIs (its_cpu_init_lpis), the ITS command queue and tables
 * (GITS_CBASER, GITS_BASER<n>, GITS_CTLR.Enabled: its_alloc_tables,
 * its_init), and MAPD / MAPC / MAPTI for every event (its_irq_domain_activate).
 * It then sets a ready word in RAM.
 *
 * After that vCPU 0 acts as a driver that triggers LPIs itself with the ITS
 * INT command (IHI 0069H §5.3.11), on request: the harness appends EventIDs
 * to a ring in guest RAM; vCPU 0 polls it, and for each entry, with
 * interrupts masked, writes an INT into the command queue, advances
 * GITS_CWRITER and waits until GITS_CREADR has caught up. `onIssue` is called
 * just before the GITS_CWRITER store: that store is the raise.
 *
 * Every vCPU's vector acknowledges (ICC_IAR1_EL1), records and completes
 * (ICC_EOIR1_EL1) every interrupt until IAR reads spurious.
 */

import {
  GICD_CTLR, GICD_CTLR_ENABLE_SS_G1, GICD_ICFGR, GICD_IPRIORITYR, GICD_ISENABLER, GICR_CTLR, GICR_CTLR_ENABLE_LPIS,
  GICR_PENDBASER, GICR_PROPBASER, GITS_BASER, GITS_BASER_HI_VALID, GITS_CBASER, GITS_CBASER_HI_VALID, GITS_CREADR,
  GITS_CTLR, GITS_CTLR_ENABLE, GITS_CWRITER, ICC_EOIR1_EL1, ICC_IAR1_EL1, ICC_IGRPEN1_EL1, ICC_PMR_EL1, INTID_SPURIOUS,
  itsCommand, type ItsCommandWords,
} from "@irqlab/gic";
import type { GuestImage } from "@irqlab/kvm";
import { op, type GuestOp, type GuestResult } from "@irqlab/sim";

type Code<T = void> = Generator<GuestOp, T, GuestResult>;

/** Where things are in the guest's physical address space. */
export interface ArmGuestLayout {
  readonly dist: number;
  readonly redist: number;
  /** Bytes per redistributor (128 KiB on GICv3). */
  readonly redistStride: number;
  readonly its: number;
  /** Guest RAM the driver owns (tables, command queue, mailbox); 64 KiB aligned, 8 MiB. */
  readonly ram: number;
}

/** The driver's data structures inside `ram`. */
export const ARM_RAM_SIZE = 0x80_0000;
const CMDQ = 0; // 64 KiB command queue
const DEVICE_TABLE = 0x10_0000;
const COLLECTION_TABLE = 0x20_0000;
const ITT = 0x30_0000;
const PROP = 0x40_0000;
const PEND = 0x50_0000; // + 64 KiB per redistributor
/** Mailbox: ready word, head (written by the harness), tail (written by the guest), then the ring. */
export const MAILBOX = 0x70_0000;
export const MAILBOX_READY = MAILBOX;
export const MAILBOX_HEAD = MAILBOX + 4;
export const MAILBOX_TAIL = MAILBOX + 8;
export const MAILBOX_RING = MAILBOX + 0x100;
/** Entries in the ring. */
export const MAILBOX_ENTRIES = 1024;

/** The ITS DeviceID of the conservation target's "device". */
export const ITS_DEVICE_ID = 1;
/** The first LPI INTID (IHI 0069H §1.2.1). */
export const FIRST_LPI = 8192;

/** What the guest sets up, and the callbacks it reports to. */
export interface ArmGuestOptions {
  readonly layout: ArmGuestLayout;
  readonly vcpus: number;
  readonly vcpu: number;
  readonly spis: readonly number[];
  /** EventID e → LPI FIRST_LPI + e, in collection `collectionOf(e)` = the vCPU it targets. */
  readonly events: number;
  readonly collectionOf: (event: number) => number;
  /** Called after ICC_IAR1_EL1 with every INTID acknowledged. */
  readonly onAcknowledge: (intid: number) => void;
  /** Called right before the GITS_CWRITER store that issues an INT for `event`. */
  readonly onIssue: (event: number) => void;
}

/** The guest image of vCPU `o.vcpu`. */
export function armConservationGuest(o: ArmGuestOptions): GuestImage {
  const { layout: l } = o;
  const ram = (off: number): number => l.ram + off;
  let cwriter = 0;

  function* command(words: ItsCommandWords, onStore?: () => void): Code {
    const [w0, w1, w2, w3, w4, w5, w6, w7] = words;
    const at = ram(CMDQ + cwriter);
    yield op.write(at, 8, w0, w1);
    yield op.write(at + 8, 8, w2, w3);
    yield op.write(at + 16, 8, w4, w5);
    yield op.write(at + 24, 8, w6, w7);
    cwriter = (cwriter + 32) % 0x10000;
    onStore?.();
    yield op.write(l.its + GITS_CWRITER, 8, cwriter, 0);
    // KVM processes the queue on the CWRITER store (vgic_mmio_write_its_cwriter); wait as its_wait_for_range_completion does.
    while (((yield op.read(l.its + GITS_CREADR, 4)).value & 0xfffe0) !== cwriter) yield op.compute(100);
  }

  function* distributor(): Code {
    yield op.write(l.dist + GICD_CTLR, 4, GICD_CTLR_ENABLE_SS_G1);
    for (const intid of o.spis) {
      const cfg = l.dist + GICD_ICFGR + (intid >>> 4) * 4;
      const old = (yield op.read(cfg, 4)).value;
      yield op.write(cfg, 4, (old | (1 << (2 * (intid & 15) + 1))) >>> 0);
      yield op.write(l.dist + GICD_IPRIORITYR + intid, 1, 0xa0);
      yield op.write(l.dist + GICD_ISENABLER + (intid >>> 5) * 4, 4, (1 << (intid & 31)) >>> 0);
    }
  }

  function* lpisAndIts(): Code {
    for (let e = 0; e < o.events; e++) yield op.write(ram(PROP + e), 1, 0xa0 | 1); // priority 0xa0, enabled
    for (let rd = 0; rd < o.vcpus; rd++) {
      const base = l.redist + rd * l.redistStride;
      yield op.write(base + GICR_PROPBASER, 8, ram(PROP) | 15, 0); // IDbits = 15: 16 INTID bits
      yield op.write(base + GICR_PENDBASER, 8, ram(PEND) + rd * 0x10000, 0);
      yield op.write(base + GICR_CTLR, 4, GICR_CTLR_ENABLE_LPIS);
    }
    yield op.write(l.its + GITS_CBASER, 8, ram(CMDQ) | 15, GITS_CBASER_HI_VALID); // 16 pages
    for (const [n, table] of [DEVICE_TABLE, COLLECTION_TABLE].entries()) {
      const lo = (yield op.read(l.its + GITS_BASER + 8 * n, 4)).value;
      const hi = (yield op.read(l.its + GITS_BASER + 8 * n + 4, 4)).value;
      yield op.write(l.its + GITS_BASER + 8 * n, 8, ((lo & 0xf00) | ram(table)) >>> 0, (hi | GITS_BASER_HI_VALID) >>> 0);
    }
    yield op.write(l.its + GITS_CTLR, 4, GITS_CTLR_ENABLE);
    yield* command(itsCommand.mapd(ITS_DEVICE_ID, ram(ITT), 3)); // 4 EventID bits
    for (let c = 0; c < o.vcpus; c++) yield* command(itsCommand.mapc(c, c));
    for (let e = 0; e < o.events; e++) yield* command(itsCommand.mapti(ITS_DEVICE_ID, e, FIRST_LPI + e, o.collectionOf(e)));
    yield op.write(ram(MAILBOX_READY), 4, 1);
  }

  /** Issues every INT the harness asked for since the last visit. */
  function* serveMailbox(tail: number): Code<number> {
    const head = (yield op.read(ram(MAILBOX_HEAD), 4)).value;
    if (head === tail) return tail;
    yield op.mask();
    while (tail !== head) {
      const event = (yield op.read(ram(MAILBOX_RING + 4 * (tail % MAILBOX_ENTRIES)), 4)).value;
      yield* command(itsCommand.int(ITS_DEVICE_ID, event), () => {
        o.onIssue(event);
      });
      tail = (tail + 1) >>> 0;
      yield op.write(ram(MAILBOX_TAIL), 4, tail);
    }
    yield op.unmask();
    return tail;
  }

  return {
    main: function* () {
      if (o.vcpu === 0) yield* distributor();
      yield op.msr(ICC_PMR_EL1, 0xff);
      yield op.msr(ICC_IGRPEN1_EL1, 1);
      yield op.unmask();
      if (o.vcpu !== 0) for (;;) yield op.wfi();
      yield* lpisAndIts();
      let tail = 0;
      for (;;) {
        tail = yield* serveMailbox(tail);
        yield op.compute(2_000);
      }
    },
    vector: function* () {
      for (;;) {
        const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xff_ffff;
        if (intid === INTID_SPURIOUS) return;
        o.onAcknowledge(intid);
        yield op.msr(ICC_EOIR1_EL1, intid);
      }
    },
  };
}
