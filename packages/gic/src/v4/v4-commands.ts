/**
 * The GICv4.1 ITS commands (IHI 0069H §6.3: VMAPP, VMAPTI, VMAPI, VMOVI,
 * VMOVP, VSYNC, VINVALL) and the virtual-ITE cases of DISCARD, INT, CLEAR and
 * INV. Encodings: QEMU hw/intc/gicv3_internal.h and Linux
 * drivers/irqchip/irq-gic-v3-its.c its_build_v*_cmd()).
 *
 * Checks follow QEMU's hw/intc/arm_gicv3_its.c process_vmapp()/process_vmapti()/
 * process_vmovi()/process_vmovp() (KVM's emulated ITS is GICv3-only and skips
 * every V* command, which the "linux-kvm" profile reproduces unless the ITS is
 * built with a vPE table). The architecture gives these errors no Linux
 * E_ITS_* names, so they are reported with code 0 and a description.
 * VMOVP ignores SequenceNumber/ITSList: the vPE table is shared by every ITS
 * (GITS_TYPER.VMOVP = 1), so one VMOVP moves the vPE for all of them.
 */

import * as C from "../its/its-constants.js";
import { CMD_OK, type ItsCommandExecutor, rdbaseOf } from "../its/its-commands.js";
import type { IteRecord } from "../its/its-tables.js";
import type { VpeTable } from "./vpe.js";

/** Executes a GICv4.1 command, or a physical-queue command that hit a virtual ITE. */
export function executeV4Command(ex: ItsCommandExecutor, w: Uint32Array, cmd: number): number {
  const vpes = ex.ctx.vpes;
  if (vpes === undefined) return ex.fail(cmd, 0, `${C.itsCommandName(cmd)}: ITS has no virtual LPI support`);
  switch (cmd) {
    case C.GITS_CMD_VMAPP: return vmapp(ex, vpes, w);
    case C.GITS_CMD_VMAPTI: return vmapti(ex, vpes, w, w[4]!);
    case C.GITS_CMD_VMAPI: return vmapti(ex, vpes, w, w[2]!);
    case C.GITS_CMD_VMOVI: return vmovi(ex, vpes, w);
    case C.GITS_CMD_VMOVP: return vmovp(ex, vpes, w);
    case C.GITS_CMD_VSYNC:
      // Completion is immediate in the model; only the vPEID is checked.
      return (w[3]! & 0xffff) < vpes.vpeIdCount ? CMD_OK : ex.fail(cmd, 0, `VSYNC: vPEID ${w[3]! & 0xffff} out of range`);
    case C.GITS_CMD_VINVALL: {
      const vpe = vpes.get(w[3]! & 0xffff);
      if (vpe === undefined) return ex.fail(cmd, 0, `VINVALL: vPE ${w[3]! & 0xffff} not mapped`);
      vpes.reloadConfig(vpe);
      return CMD_OK;
    }
    case C.GITS_CMD_DISCARD:
    case C.GITS_CMD_INT:
    case C.GITS_CMD_CLEAR:
    case C.GITS_CMD_INV:
      return onVirtualIte(ex, vpes, w, cmd, ex.ite);
    default:
      return ex.fail(cmd, 0, `unknown command ${C.itsCommandName(cmd)}`);
  }
}

function vmapp(ex: ItsCommandExecutor, vpes: VpeTable, w: Uint32Array): number {
  const cmd = C.GITS_CMD_VMAPP;
  const ptz = ((w[0]! >>> 9) & 1) === 1;
  const vconf = ((w[0]! & 0xffff_0000) >>> 0) + (w[1]! & 0xfffff) * 2 ** 32;
  const doorbell = w[2]!;
  const vpeid = w[3]! & 0xffff;
  const rd = rdbaseOf(w[4]!, w[5]!);
  const valid = w[5]! >>> 31 === 1;
  const vptBits = (w[6]! & 0xff) + 1;
  const vpt = ((w[6]! & 0xffff_0000) >>> 0) + (w[7]! & 0xfffff) * 2 ** 32;
  if (vpeid >= vpes.vpeIdCount) return ex.fail(cmd, 0, `VMAPP: vPEID ${vpeid} out of range`);
  if (!valid) {
    vpes.unmap(vpeid);
    return CMD_OK;
  }
  if (!ex.isRd(rd)) return ex.fail(cmd, 0, `VMAPP: RDbase ${rd} is not a redistributor`);
  if (vptBits > vpes.maxIdBits || vptBits < 14) return ex.fail(cmd, 0, `VMAPP: VPT size ${vptBits} bits out of range`);
  if (doorbell !== C.INTID_SPURIOUS && !ex.isLpi(doorbell)) return ex.fail(cmd, 0, `VMAPP: doorbell ${doorbell} is neither 1023 nor an LPI`);
  vpes.map(vpeid, rd, vpt, vptBits, vconf, doorbell, ptz);
  return CMD_OK;
}

function vmapti(ex: ItsCommandExecutor, vpes: VpeTable, w: Uint32Array, vintid: number): number {
  const cmd = w[0]! & 0xff;
  const name = C.itsCommandName(cmd);
  const devId = w[1]!;
  const eventId = w[2]!;
  const vpeid = w[3]! & 0xffff;
  const doorbell = w[5]!;
  const { store } = ex.ctx;
  if (devId >= 2 ** ex.ctx.devBits || !store.deviceIdInRange(devId)) return ex.fail(cmd, 0, `${name}: DeviceID ${devId} out of range`);
  store.readDte(devId, ex.dte);
  if (!ex.dte.valid) return ex.fail(cmd, 0, `${name}: DeviceID ${devId} not mapped`);
  if (eventId >= 2 ** (ex.dte.size + 1)) return ex.fail(cmd, 0, `${name}: EventID ${eventId} out of range`);
  if (vpeid >= vpes.vpeIdCount) return ex.fail(cmd, 0, `${name}: vPEID ${vpeid} out of range`);
  const vpe = vpes.get(vpeid);
  const limit = vpe !== undefined ? 2 ** vpe.idBits : 2 ** vpes.maxIdBits;
  if (vintid < C.LPI_INTID_BASE || vintid >= limit) return ex.fail(cmd, 0, `${name}: vINTID ${vintid} out of range`);
  if (doorbell !== C.INTID_SPURIOUS && !ex.isLpi(doorbell)) return ex.fail(cmd, 0, `${name}: doorbell ${doorbell} is neither 1023 nor an LPI`);
  store.readIte(devId, ex.dte, eventId, ex.ite);
  if (ex.ite.valid) ex.dropIte(ex.ite);
  const ite = ex.ite;
  ite.valid = true;
  ite.physical = false;
  ite.intid = vintid;
  ite.icid = 0;
  ite.vpeid = vpeid;
  ite.doorbell = doorbell;
  ite.affinity = -1;
  store.writeIte(devId, ex.dte, eventId, ite);
  if (vpe !== undefined) vpes.reloadConfigOne(vpe, vintid);
  ex.ctx.cache?.invalidateAll();
  return CMD_OK;
}

function vmovi(ex: ItsCommandExecutor, vpes: VpeTable, w: Uint32Array): number {
  const cmd = C.GITS_CMD_VMOVI;
  const devId = w[1]!;
  const eventId = w[2]!;
  const vpeid = w[3]! & 0xffff;
  const setDoorbell = (w[4]! & 1) === 1;
  const doorbell = w[5]!;
  ex.lookup(devId, eventId);
  const ite = ex.ite;
  if (!ite.valid || ite.physical) return ex.fail(cmd, 0, `VMOVI: no virtual ITE for ${devId}:${eventId}`);
  const to = vpes.get(vpeid);
  if (to === undefined) return ex.fail(cmd, 0, `VMOVI: vPE ${vpeid} not mapped`);
  if (setDoorbell && doorbell !== C.INTID_SPURIOUS && !ex.isLpi(doorbell)) {
    return ex.fail(cmd, 0, `VMOVI: doorbell ${doorbell} is neither 1023 nor an LPI`);
  }
  const from = vpes.get(ite.vpeid);
  const wasPending = from?.isPending(ite.intid) === true;
  if (from !== undefined) vpes.clear(from, ite.intid);
  ite.vpeid = vpeid;
  if (setDoorbell) ite.doorbell = doorbell;
  ex.ctx.store.writeIte(devId, ex.dte, eventId, ite);
  if (wasPending) vpes.inject(to, ite.intid);
  return CMD_OK;
}

function vmovp(ex: ItsCommandExecutor, vpes: VpeTable, w: Uint32Array): number {
  const cmd = C.GITS_CMD_VMOVP;
  const vpeid = w[3]! & 0xffff;
  const rd = rdbaseOf(w[4]!, w[5]!);
  const db = w[5]! >>> 31 === 1;
  const vpe = vpes.get(vpeid);
  if (vpe === undefined) return ex.fail(cmd, 0, `VMOVP: vPE ${vpeid} not mapped`);
  if (!ex.isRd(rd)) return ex.fail(cmd, 0, `VMOVP: RDbase ${rd} is not a redistributor`);
  if (db && w[6]! !== C.INTID_SPURIOUS && !ex.isLpi(w[6]!)) return ex.fail(cmd, 0, `VMOVP: doorbell ${w[6]!} is neither 1023 nor an LPI`);
  vpes.move(vpe, rd, db ? w[6]! : undefined);
  return CMD_OK;
}

function onVirtualIte(ex: ItsCommandExecutor, vpes: VpeTable, w: Uint32Array, cmd: number, ite: IteRecord): number {
  const vpe = vpes.get(ite.vpeid);
  if (vpe === undefined) return ex.fail(cmd, 0, `${C.itsCommandName(cmd)}: vPE ${ite.vpeid} of ${w[1]!}:${w[2]!} not mapped`);
  switch (cmd) {
    case C.GITS_CMD_INT:
      vpes.inject(vpe, ite.intid);
      break;
    case C.GITS_CMD_CLEAR:
      vpes.clear(vpe, ite.intid);
      break;
    case C.GITS_CMD_INV:
      vpes.reloadConfigOne(vpe, ite.intid);
      break;
    default: // DISCARD
      vpes.clear(vpe, ite.intid);
      ex.ctx.store.clearIte(w[1]!, ex.dte, w[2]!);
  }
  return CMD_OK;
}
