/**
 * The guest side of Linux's selftest library for the GICv3 ITS
 * (tools/testing/selftests/kvm/lib/arm64/gic_v3_its.c, with the gic_v3.c
 * pieces the ITS tests call: gic_init's distributor and CPU interface setup,
 * gic_rdist_enable_lpis), as guest generators over irqlab's guest ops, shared
 * by the ported ITS selftests.
 *
 * Addresses are include/arm64/gic.h's: the ITS frame first, then the
 * distributor, then the redistributors (GITS_BASE_GPA, GICD_BASE_GPA,
 * GICR_BASE_GPA). The guest runs without an MMU here, so its virtual
 * addresses are the physical ones (upstream maps them 1:1 with virt_map).
 */
import {
  GICD_CTLR,
  GICD_CTLR_ARE_NS,
  GICD_CTLR_ENABLE_SS_G1,
  GICR_CTLR,
  GICR_CTLR_ENABLE_LPIS,
  GICR_PENDBASER,
  GICR_PROPBASER,
  GITS_BASER,
  GITS_BASER_NR_REGS,
  GITS_BASER_TYPE_COLLECTION,
  GITS_BASER_TYPE_DEVICE,
  GITS_CBASER,
  GITS_CMD_INVALL,
  GITS_CMD_MAPC,
  GITS_CMD_MAPD,
  GITS_CMD_MAPTI,
  GITS_CMD_SYNC,
  GITS_CREADR,
  GITS_CTLR,
  GITS_CTLR_ENABLE,
  GITS_CWRITER,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
} from "@irqlab/gic";
import { op } from "@irqlab/sim";
import { guestAssert, type Guest, type GuestAsserts } from "./ucall.js";

/** include/arm64/gic.h: the ITS first, then the distributor, then the redistributors. */
export const GITS_BASE_GPA = 0x0800_0000;
export const GICD_BASE_GPA = GITS_BASE_GPA + 0x2_0000; // + KVM_VGIC_V3_ITS_SIZE
export const GICR_BASE_GPA = GICD_BASE_GPA + 0x1_0000; // + KVM_VGIC_V3_DIST_SIZE
/** A GICv3 redistributor: RD_base and SGI_base frames. */
export const GICR_STRIDE = 0x2_0000;

export const SZ_4K = 0x1000;
export const SZ_64K = 0x1_0000;
/** lib/arm64/gic_v3.c: the priority mask gicv3_cpu_init sets. */
const DEFAULT_PMR_VALUE = 0xf0;

/** Shareability and cacheability fields (arm-gic-v3.h): Inner Shareable, RaWaWb. */
const GICR_PROPBASER_INNER_SHAREABLE = 1n << 10n;
const GICR_PROPBASER_RAWAWB = 7n << 7n;
const GICR_PROPBASER_IDBITS_MASK = 0x1fn;
/** GICR_PENDBASER has its shareability and inner cacheability at the same bits. */
const GICR_PENDBASER_INNER_SHAREABLE = GICR_PROPBASER_INNER_SHAREABLE;
const GICR_PENDBASER_RAWAWB = GICR_PROPBASER_RAWAWB;
const GITS_BASER_INNER_SHAREABLE = 1n << 10n;
const GITS_BASER_RAWAWB = 7n << 59n;
const GITS_BASER_PAGE_SIZE_64K = 2n << 8n;
const GITS_BASER_VALID = 1n << 63n;
const GITS_CBASER_INNER_SHAREABLE = 1n << 10n;
const GITS_CBASER_RAWAWB = 7n << 59n;
const GITS_CBASER_VALID = 1n << 63n;

/** What the guest helpers share with their test: gic_init's once-only flag and the GUEST_ASSERT log. */
export interface GuestGicState extends GuestAsserts {
  /** gic_init has set up the (one) distributor already. */
  distInitialised: boolean;
}

/** The guest's view of its ITS command queue (its_init's cmdq, used by its_send_*_cmd). */
export interface GuestItsState extends GuestGicState {
  readonly cmdqBase: number;
}

// ---- 64-bit accesses --------------------------------------------------------------

const lo32 = (v: bigint) => Number(v & 0xffff_ffffn);
const hi32 = (v: bigint) => Number((v >> 32n) & 0xffff_ffffn);

/** writeq_relaxed. */
export function* writeq(addr: number, v: bigint): Guest {
  yield op.write(addr, 8, lo32(v), hi32(v));
}

/** readq_relaxed. */
export function* readq(addr: number): Guest<bigint> {
  const r = yield op.read(addr, 8);
  return (BigInt(r.hi >>> 0) << 32n) | BigInt(r.value >>> 0);
}

// ---- lib/arm64/gic_v3.c -----------------------------------------------------------

/** gic_init(GIC_V3, nr_cpus): the distributor once (ARE, Group 1), then this CPU's interface. */
export function* gicInit(t: GuestGicState): Guest {
  if (!t.distInitialised) {
    t.distInitialised = true;
    yield op.write(GICD_BASE_GPA + GICD_CTLR, 4, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_SS_G1);
  }
  yield op.msr(ICC_PMR_EL1, DEFAULT_PMR_VALUE);
  yield op.msr(ICC_IGRPEN1_EL1, 1);
}

/** gic_rdist_enable_lpis(cfg_table, cfg_table_size, pend_table) on this vCPU's redistributor. */
export function* gicRdistEnableLpis(cpuid: number, cfgTable: number, cfgTableSize: number, pendTable: number): Guest {
  const rd = GICR_BASE_GPA + cpuid * GICR_STRIDE;
  const idBits = BigInt(Math.log2(cfgTableSize) - 1) & GICR_PROPBASER_IDBITS_MASK;
  yield* writeq(rd + GICR_PROPBASER, BigInt(cfgTable) | GICR_PROPBASER_INNER_SHAREABLE | GICR_PROPBASER_RAWAWB | idBits);
  yield* writeq(rd + GICR_PENDBASER, BigInt(pendTable) | GICR_PENDBASER_INNER_SHAREABLE | GICR_PENDBASER_RAWAWB);
  const ctlr = (yield op.read(rd + GICR_CTLR, 4)).value;
  yield op.write(rd + GICR_CTLR, 4, (ctlr | GICR_CTLR_ENABLE_LPIS) >>> 0);
}

// ---- lib/arm64/gic_v3_its.c -------------------------------------------------------

/** its_find_baser(type): the offset of the GITS_BASER<n> whose Type field (bits [58:56]) is `type`. */
export function* itsFindBaser(t: GuestGicState, type: number): Guest<number> {
  for (let i = 0; i < GITS_BASER_NR_REGS; i++) {
    const offset = GITS_BASER + 8 * i;
    if (Number(((yield* readq(GITS_BASE_GPA + offset)) >> 56n) & 7n) === type) return offset;
  }
  yield* guestAssert(t, false, `no ITS BASER of type ${type}`);
  return -1;
}

/** its_install_table: a flat table of 64 KiB pages. */
function* itsInstallTable(t: GuestGicState, type: number, base: number, size: number): Guest {
  const offset = yield* itsFindBaser(t, type);
  const baser = BigInt(size / SZ_64K - 1) | GITS_BASER_PAGE_SIZE_64K | GITS_BASER_INNER_SHAREABLE | BigInt(base) | GITS_BASER_RAWAWB | GITS_BASER_VALID;
  yield* writeq(GITS_BASE_GPA + offset, baser);
}

/** its_init: collection table, device table, command queue, then GITS_CTLR.Enabled. */
export function* itsInit(t: GuestGicState, collTbl: number, collTblSz: number, deviceTbl: number, deviceTblSz: number, cmdq: number, cmdqSize: number): Guest {
  yield* itsInstallTable(t, GITS_BASER_TYPE_COLLECTION, collTbl, collTblSz);
  yield* itsInstallTable(t, GITS_BASER_TYPE_DEVICE, deviceTbl, deviceTblSz);
  yield* writeq(GITS_BASE_GPA + GITS_CBASER, BigInt(cmdqSize / SZ_4K - 1) | GITS_CBASER_INNER_SHAREABLE | BigInt(cmdq) | GITS_CBASER_RAWAWB | GITS_CBASER_VALID);
  const ctlr = (yield op.read(GITS_BASE_GPA + GITS_CTLR, 4)).value;
  yield op.write(GITS_BASE_GPA + GITS_CTLR, 4, (ctlr | GITS_CTLR_ENABLE) >>> 0);
}

/** struct its_cmd_block: four little-endian doublewords. */
type ItsCmd = [bigint, bigint, bigint, bigint];

/** its_mask_encode(raw_cmd, val, h, l): the field [h:l] of one doubleword. */
function encode(cmd: ItsCmd, dw: 0 | 1 | 2 | 3, val: bigint, h: bigint, l: bigint): void {
  const mask = ((1n << (h - l + 1n)) - 1n) << l;
  cmd[dw] = (cmd[dw] & ~mask) | ((val << l) & mask);
}

/** procnum_to_rdbase(vcpu_id), as its_encode_target stores it: RDbase = the processor number. */
const procnumToRdbase = (vcpuId: number) => BigInt(vcpuId) << 16n;

/**
 * its_send_cmd: store the command at GITS_CWRITER, advance CWRITER modulo
 * the queue size from GITS_CBASER, and assert that GITS_CREADR has reached
 * it at the first read (GITS_CMDQ_POLL_ITERATIONS = 0: KVM runs the queue
 * synchronously on the CWRITER write).
 */
function* itsSendCmd(t: GuestItsState, cmd: ItsCmd): Guest {
  const cwriter = Number(yield* readq(GITS_BASE_GPA + GITS_CWRITER));
  const cbaser = yield* readq(GITS_BASE_GPA + GITS_CBASER);
  const cmdqSize = (Number(cbaser & 0xffn) + 1) * SZ_4K;
  for (let i = 0; i < 4; i++) yield* writeq(t.cmdqBase + cwriter + 8 * i, cmd[i]!);
  const next = (cwriter + 32) % cmdqSize;
  yield* writeq(GITS_BASE_GPA + GITS_CWRITER, BigInt(next));
  const creadr = Number(yield* readq(GITS_BASE_GPA + GITS_CREADR));
  yield* guestAssert(t, creadr === next, `ITS didn't process command at offset ${cwriter} after 0 iterations (GITS_CREADR 0x${creadr.toString(16)})`);
}

/** its_send_mapd_cmd: Size is ilog2(itt_size) − 1. */
export function* itsSendMapdCmd(t: GuestItsState, deviceId: number, ittBase: number, ittSize: number, valid: boolean): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_MAPD), 7n, 0n);
  encode(cmd, 0, BigInt(deviceId), 63n, 32n);
  encode(cmd, 1, BigInt(Math.log2(ittSize) - 1), 4n, 0n);
  encode(cmd, 2, BigInt(ittBase) >> 8n, 51n, 8n);
  encode(cmd, 2, valid ? 1n : 0n, 63n, 63n);
  yield* itsSendCmd(t, cmd);
}

/** its_send_mapc_cmd. */
export function* itsSendMapcCmd(t: GuestItsState, vcpuId: number, collectionId: number, valid: boolean): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_MAPC), 7n, 0n);
  encode(cmd, 2, BigInt(collectionId), 15n, 0n);
  encode(cmd, 2, procnumToRdbase(vcpuId) >> 16n, 51n, 16n);
  encode(cmd, 2, valid ? 1n : 0n, 63n, 63n);
  yield* itsSendCmd(t, cmd);
}

/** its_send_mapti_cmd. */
export function* itsSendMaptiCmd(t: GuestItsState, deviceId: number, eventId: number, collectionId: number, intid: number): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_MAPTI), 7n, 0n);
  encode(cmd, 0, BigInt(deviceId), 63n, 32n);
  encode(cmd, 1, BigInt(eventId), 31n, 0n);
  encode(cmd, 1, BigInt(intid), 63n, 32n);
  encode(cmd, 2, BigInt(collectionId), 15n, 0n);
  yield* itsSendCmd(t, cmd);
}

/** its_send_invall_cmd. */
export function* itsSendInvallCmd(t: GuestItsState, collectionId: number): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_INVALL), 7n, 0n);
  encode(cmd, 2, BigInt(collectionId), 15n, 0n);
  yield* itsSendCmd(t, cmd);
}

/** its_send_sync_cmd. */
export function* itsSendSyncCmd(t: GuestItsState, vcpuId: number): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_SYNC), 7n, 0n);
  encode(cmd, 2, procnumToRdbase(vcpuId) >> 16n, 51n, 16n);
  yield* itsSendCmd(t, cmd);
}
