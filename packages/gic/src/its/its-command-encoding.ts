/**
 * Encoders for ITS commands as eight little-endian 32-bit words (DW0 low, DW0
 * high, DW1 low, ...), the layouts of IHI 0069H §6.3 as Linux builds them
 * (drivers/irqchip/irq-gic-v3-its.c its_encode_*()) and QEMU decodes them
 * (hw/intc/gicv3_internal.h). For drivers, tests and the host-side vLPI API;
 * {@link writeItsCommand} stores one into guest memory.
 */

import type { GuestMemory } from "@irqlab/sim";
import * as C from "./its-constants.js";

/** One command: eight 32-bit words. */
export type ItsCommandWords = [number, number, number, number, number, number, number, number];

const TWO_32 = 2 ** 32;

function lo(addr: number): number {
  return addr % TWO_32 >>> 0;
}

function hi(addr: number): number {
  return Math.floor(addr / TWO_32) >>> 0;
}

/** RDbase [51:16] as (lo, hi) contributions of a doubleword. */
function rdWords(rd: number): [number, number] {
  return [((rd & 0xffff) << 16) >>> 0, Math.floor(rd / 65536) & 0xfffff];
}

/** Encoders of every command the model executes. */
export const itsCommand = {
  /** MAPD DeviceID, ITT_addr (256-byte aligned), Size (EventID bits − 1), V. */
  mapd(deviceId: number, ittAddr: number, size: number, valid = true): ItsCommandWords {
    return [C.GITS_CMD_MAPD, deviceId >>> 0, size & 0x1f, 0, (lo(ittAddr) & 0xffff_ff00) >>> 0, ((hi(ittAddr) & 0xfffff) | (valid ? 0x8000_0000 : 0)) >>> 0, 0, 0];
  },
  /** MAPC ICID, RDbase (processor number), V. */
  mapc(icid: number, rd: number, valid = true): ItsCommandWords {
    const [rlo, rhi] = rdWords(rd);
    return [C.GITS_CMD_MAPC, 0, 0, 0, (rlo | (icid & 0xffff)) >>> 0, (rhi | (valid ? 0x8000_0000 : 0)) >>> 0, 0, 0];
  },
  /** MAPTI DeviceID, EventID, pINTID, ICID. */
  mapti(deviceId: number, eventId: number, pintid: number, icid: number): ItsCommandWords {
    return [C.GITS_CMD_MAPTI, deviceId >>> 0, eventId >>> 0, pintid >>> 0, icid & 0xffff, 0, 0, 0];
  },
  /** MAPI DeviceID, EventID (= pINTID), ICID. */
  mapi(deviceId: number, eventId: number, icid: number): ItsCommandWords {
    return [C.GITS_CMD_MAPI, deviceId >>> 0, eventId >>> 0, 0, icid & 0xffff, 0, 0, 0];
  },
  /** MOVI DeviceID, EventID, ICID. */
  movi(deviceId: number, eventId: number, icid: number): ItsCommandWords {
    return [C.GITS_CMD_MOVI, deviceId >>> 0, eventId >>> 0, 0, icid & 0xffff, 0, 0, 0];
  },
  /** MOVALL RDbase1, RDbase2. */
  movall(rd1: number, rd2: number): ItsCommandWords {
    const [alo, ahi] = rdWords(rd1);
    const [blo, bhi] = rdWords(rd2);
    return [C.GITS_CMD_MOVALL, 0, 0, 0, alo, ahi, blo, bhi];
  },
  /** DISCARD DeviceID, EventID. */
  discard(deviceId: number, eventId: number): ItsCommandWords {
    return [C.GITS_CMD_DISCARD, deviceId >>> 0, eventId >>> 0, 0, 0, 0, 0, 0];
  },
  /** INT DeviceID, EventID. */
  int(deviceId: number, eventId: number): ItsCommandWords {
    return [C.GITS_CMD_INT, deviceId >>> 0, eventId >>> 0, 0, 0, 0, 0, 0];
  },
  /** CLEAR DeviceID, EventID. */
  clear(deviceId: number, eventId: number): ItsCommandWords {
    return [C.GITS_CMD_CLEAR, deviceId >>> 0, eventId >>> 0, 0, 0, 0, 0, 0];
  },
  /** INV DeviceID, EventID. */
  inv(deviceId: number, eventId: number): ItsCommandWords {
    return [C.GITS_CMD_INV, deviceId >>> 0, eventId >>> 0, 0, 0, 0, 0, 0];
  },
  /** INVALL ICID. */
  invall(icid: number): ItsCommandWords {
    return [C.GITS_CMD_INVALL, 0, 0, 0, icid & 0xffff, 0, 0, 0];
  },
  /** SYNC RDbase. */
  sync(rd: number): ItsCommandWords {
    const [rlo, rhi] = rdWords(rd);
    return [C.GITS_CMD_SYNC, 0, 0, 0, rlo, rhi, 0, 0];
  },
  /** VMAPP (v4.1) vPEID, RDbase, VPT (address, ID bits), VConf address, default doorbell, V, Alloc, PTZ. */
  vmapp(p: { vpeId: number; rd: number; vptAddr: number; vptIdBits: number; vconfAddr: number; doorbell: number; valid?: boolean; alloc?: boolean; ptz?: boolean }): ItsCommandWords {
    const [rlo, rhi] = rdWords(p.rd);
    const dw0lo = (C.GITS_CMD_VMAPP | (p.alloc === true ? 1 << 8 : 0) | (p.ptz === true ? 1 << 9 : 0) | (lo(p.vconfAddr) & 0xffff_0000)) >>> 0;
    return [
      dw0lo,
      hi(p.vconfAddr) & 0xfffff,
      p.doorbell >>> 0,
      p.vpeId & 0xffff,
      rlo,
      (rhi | (p.valid === false ? 0 : 0x8000_0000)) >>> 0,
      ((p.vptIdBits - 1) & 0xff) | (lo(p.vptAddr) & 0xffff_0000),
      hi(p.vptAddr) & 0xfffff,
    ];
  },
  /** VMAPTI DeviceID, EventID, vPEID, vINTID, doorbell (1023 = none). */
  vmapti(deviceId: number, eventId: number, vpeId: number, vintid: number, doorbell: number = C.INTID_SPURIOUS): ItsCommandWords {
    return [C.GITS_CMD_VMAPTI, deviceId >>> 0, eventId >>> 0, vpeId & 0xffff, vintid >>> 0, doorbell >>> 0, 0, 0];
  },
  /** VMAPI DeviceID, EventID (= vINTID), vPEID, doorbell. */
  vmapi(deviceId: number, eventId: number, vpeId: number, doorbell: number = C.INTID_SPURIOUS): ItsCommandWords {
    return [C.GITS_CMD_VMAPI, deviceId >>> 0, eventId >>> 0, vpeId & 0xffff, 0, doorbell >>> 0, 0, 0];
  },
  /** VMOVI DeviceID, EventID, vPEID, optional doorbell (D = 1). */
  vmovi(deviceId: number, eventId: number, vpeId: number, doorbell?: number): ItsCommandWords {
    return [C.GITS_CMD_VMOVI, deviceId >>> 0, eventId >>> 0, vpeId & 0xffff, doorbell === undefined ? 0 : 1, (doorbell ?? 0) >>> 0, 0, 0];
  },
  /** VMOVP vPEID to RDbase, optional new default doorbell (v4.1 DB = 1). */
  vmovp(vpeId: number, rd: number, doorbell?: number): ItsCommandWords {
    const [rlo, rhi] = rdWords(rd);
    return [C.GITS_CMD_VMOVP, 0, 0, vpeId & 0xffff, rlo, (rhi | (doorbell === undefined ? 0 : 0x8000_0000)) >>> 0, (doorbell ?? 0) >>> 0, 0];
  },
  /** VSYNC vPEID. */
  vsync(vpeId: number): ItsCommandWords {
    return [C.GITS_CMD_VSYNC, 0, 0, vpeId & 0xffff, 0, 0, 0, 0];
  },
  /** VINVALL vPEID. */
  vinvall(vpeId: number): ItsCommandWords {
    return [C.GITS_CMD_VINVALL, 0, 0, vpeId & 0xffff, 0, 0, 0, 0];
  },
};

/** Stores a command at `addr` (a queue slot) in guest memory. */
export function writeItsCommand(memory: GuestMemory, addr: number, words: readonly number[]): void {
  for (let i = 0; i < 8; i++) memory.writeU32(addr + 4 * i, words[i] ?? 0);
}
