/**
 * The ITS commands the driver sends, built as Linux builds them
 * (drivers/irqchip/irq-gic-v3-its.c: its_encode_cmd, its_encode_devid,
 * its_encode_event_id, its_encode_phys_id, its_encode_size,
 * its_encode_itt, its_encode_valid, its_encode_target,
 * its_encode_collection; its_build_*_cmd), with the layouts of the GIC
 * architecture specification (IHI 0069H §6.3). A command is four
 * little-endian doublewords; here it is eight 32-bit words, low word first:
 *
 * - DW0: command number [7:0], DeviceID [63:32];
 * - DW1: EventID [31:0], pINTID [63:32] (MAPTI), Size [4:0] (MAPD);
 * - DW2: ICID [15:0], ITT_addr [51:8] (MAPD), RDbase [51:16] (MAPC, SYNC),
 *   V [63] (MAPD, MAPC);
 * - DW3: unused by the physical commands.
 *
 * Every builder clears the buffer first, as its_allocate_entry() clears the
 * slot ("Make sure the queue is clean").
 */

import {
  GITS_CMD_CLEAR,
  GITS_CMD_DISCARD,
  GITS_CMD_INT,
  GITS_CMD_INV,
  GITS_CMD_INVALL,
  GITS_CMD_MAPC,
  GITS_CMD_MAPD,
  GITS_CMD_MAPTI,
  GITS_CMD_MOVI,
  GITS_CMD_SYNC,
} from "@irqlab/gic";

/** One command: eight 32-bit words (DW0 low, DW0 high, DW1 low, ...). */
export type ItsCommandBuffer = Uint32Array;

/** A fresh command buffer. */
export function newItsCommandBuffer(): ItsCommandBuffer {
  return new Uint32Array(8);
}

const TWO_32 = 2 ** 32;

function start(c: ItsCommandBuffer, cmd: number, devId: number): void {
  c.fill(0);
  c[0] = cmd;
  c[1] = devId >>> 0;
}

/**
 * RDbase as its_encode_target() stores it: target_addr >> 16 into DW2
 * [51:16]. `target` is the collection's target_address: the redistributor's
 * physical address (GITS_TYPER.PTA = 1) or Processor_Number << 16 (PTA = 0).
 */
function target(c: ItsCommandBuffer, targetAddress: number): void {
  const rd = Math.floor(targetAddress / 0x1_0000);
  c[4] = (c[4]! | ((rd & 0xffff) << 16)) >>> 0;
  c[5] = (c[5]! | (Math.floor(rd / 0x1_0000) & 0xfffff)) >>> 0;
}

/** its_build_mapd_cmd: MAPD DeviceID, ITT_addr, Size = log2(ITEs) − 1, V. */
export function buildMapd(c: ItsCommandBuffer, devId: number, ittAddr: number, nrItes: number, valid: boolean): void {
  start(c, GITS_CMD_MAPD, devId);
  c[2] = (Math.log2(nrItes) - 1) & 0x1f;
  c[4] = (ittAddr % TWO_32 & 0xffff_ff00) >>> 0;
  c[5] = ((Math.floor(ittAddr / TWO_32) & 0xfffff) | (valid ? 0x8000_0000 : 0)) >>> 0;
}

/** its_build_mapc_cmd: MAPC ICID, RDbase, V. */
export function buildMapc(c: ItsCommandBuffer, icid: number, targetAddress: number, valid: boolean): void {
  start(c, GITS_CMD_MAPC, 0);
  c[4] = icid & 0xffff;
  target(c, targetAddress);
  if (valid) c[5] = (c[5]! | 0x8000_0000) >>> 0;
}

/** its_build_mapti_cmd: MAPTI DeviceID, EventID, pINTID, ICID. */
export function buildMapti(c: ItsCommandBuffer, devId: number, eventId: number, lpi: number, icid: number): void {
  start(c, GITS_CMD_MAPTI, devId);
  c[2] = eventId >>> 0;
  c[3] = lpi >>> 0;
  c[4] = icid & 0xffff;
}

/** its_build_movi_cmd: MOVI DeviceID, EventID, ICID. */
export function buildMovi(c: ItsCommandBuffer, devId: number, eventId: number, icid: number): void {
  start(c, GITS_CMD_MOVI, devId);
  c[2] = eventId >>> 0;
  c[4] = icid & 0xffff;
}

/** INT, CLEAR, INV and DISCARD: DeviceID and EventID only (its_build_int_cmd and siblings). */
export function buildEventCommand(c: ItsCommandBuffer, cmd: typeof GITS_CMD_INT | typeof GITS_CMD_CLEAR | typeof GITS_CMD_INV | typeof GITS_CMD_DISCARD, devId: number, eventId: number): void {
  start(c, cmd, devId);
  c[2] = eventId >>> 0;
}

/** its_build_invall_cmd: INVALL ICID. */
export function buildInvall(c: ItsCommandBuffer, icid: number): void {
  start(c, GITS_CMD_INVALL, 0);
  c[4] = icid & 0xffff;
}

/** its_build_sync_cmd: SYNC RDbase. */
export function buildSync(c: ItsCommandBuffer, targetAddress: number): void {
  start(c, GITS_CMD_SYNC, 0);
  target(c, targetAddress);
}
