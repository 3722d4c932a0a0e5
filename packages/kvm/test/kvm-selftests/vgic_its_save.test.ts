/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/vgic_its_save.c:
 * KVM_DEV_ARM_ITS_SAVE_TABLES against tables the guest broke on its own, with
 * no ITS command telling KVM, then the reset and restore a migration target does
 * (arm-vgic-its.rst: the GITS_ registers first, then the tables):
 *
 * - test_baser_change_drops_collections: the guest maps 8193 collections in a
 *   two-page collection table, then shrinks the table to one page (Valid stays
 *   set). Mainline vgic_mmio_write_its_baser() frees the collections of a
 *   GITS_BASER<coll> whose value changed, so the save writes only the
 *   terminating invalid entry (vgic_its_save_collection_table).
 * - test_unreachable_device_skipped: devices 0 and 8192 mapped through a
 *   two-level device table, then the guest drops the level-1 entry of device
 *   8192. vgic_its_save_device_tables() skips it (vgic_its_check_id fails) and
 *   the saved DTE of device 0 ends the chain (compute_next_devid_offset).
 *
 * main() runs both after TEST_REQUIRE(kvm_supports_vgic_v3()), which holds on
 * every arm64 Kvm here: nothing is skipped. Beyond upstream, each case also
 * runs against the vITS as Linux 6.6 released it (registerVgicItsDevice with
 * `behaviour: "linux-6.6"`), where upstream's assertions do not hold: the
 * shrink left the collections, so the save writes all 8193 of them past the
 * one-page table, and the unreachable device fails the save with EINVAL once
 * device 0's DTE has gone out pointing at it.
 *
 * The guest runs without an MMU, so the 1:1 mappings of map_to_guest are
 * implicit; addr_gpa2hva becomes a read of guest memory. GUEST_DONE and a failed
 * GUEST_ASSERT are ucalls (lib/ucall.ts); struct test_data is a host object the
 * guest code reads (sync_global_to_guest).
 */
import { GITS_BASER, GITS_BASER_NR_REGS, GITS_BASER_TYPE_COLLECTION, GITS_BASER_TYPE_DEVICE, GITS_CTLR, GITS_CTLR_ENABLE } from "@irqlab/gic";
import { op } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  KVM_DEV_ARM_ITS_CTRL_RESET,
  KVM_DEV_ARM_ITS_RESTORE_TABLES,
  KVM_DEV_ARM_ITS_SAVE_TABLES,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_ITS_REGS,
  KVM_EXIT_MMIO,
  KvmError,
  registerVgicItsDevice,
  type Device,
  type VitsBehaviour,
  type Vcpu,
  type Vm,
} from "../../src/index.js";
import { GITS_BASE_GPA, SZ_64K, gicInit, gicRdistEnableLpis, itsFindBaser, itsInit, itsSendMapcCmd, itsSendMapdCmd, readq, writeq, type GuestItsState } from "./lib/gic_v3_its.js";
import { UCALL_ABORT, UCALL_ADDR, UCALL_DONE, ucall, type Guest } from "./lib/ucall.js";
import { setupMemslot, vgicItsSetup, vmWithVgicV3 } from "./lib/vgic.js";

/** All three ITS table entry sizes are 8 bytes in ABI 0. */
const ESZ = 8;
const ENTRIES_PER_PAGE = SZ_64K / ESZ;

/** DTE layout (KVM_ITS_DTE_* in arch/arm64/kvm/vgic/vgic.h). */
const DTE_VALID_MASK = 1n << 63n;
const DTE_NEXT_SHIFT = 49n;
const DTE_NEXT_MASK = ((1n << 14n) - 1n) << DTE_NEXT_SHIFT;
/** L1 entry of an indirect table: valid bit plus a 64K aligned L2 address. */
const L1E_VALID_MASK = 1n << 63n;
const L1E_ADDR_MASK = ((1n << 36n) - 1n) << 16n; // GENMASK_ULL(51, 16)

const GITS_BASER_PAGES_MASK = 0xffn;
const GITS_BASER_INDIRECT = 1n << 62n;
const POISON = 0xdead_beef_dead_beefn;

/** The collection table starts at two pages and is shrunk to one. */
const COLL_TBL_PAGES = 2;
const COLL_TBL_SZ = COLL_TBL_PAGES * SZ_64K;
/** One more collection than the shrunken table can hold. */
const NR_COLLECTIONS = ENTRIES_PER_PAGE + 1;

/** Two devices, one per L2 block of the indirect device table. */
const DEVICE_A_ID = 0;
const DEVICE_B_ID = ENTRIES_PER_PAGE;

/** MAPD's Size is ilog2(itt_size) − 1 (its_send_mapd_cmd); the restore scans 2^(Size + 1) entries. */
const ITT_EVENTID_BITS = 13;
const ITT_MAPD_SIZE = 2 ** (ITT_EVENTID_BITS + 1);
const ITT_SZ = 2 ** ITT_EVENTID_BITS * ESZ;

/** struct test_data. */
interface TestData extends GuestItsState {
  cmdqBase: number;
  deviceTable: number;
  collectionTable: number;
  lpiPropTable: number;
  lpiPendTable: number;
  deviceL1Va: number;
  readonly deviceL2: [number, number];
  ittTables: number;
}

function newTestData(): TestData {
  return {
    distInitialised: false,
    failures: [],
    cmdqBase: 0,
    deviceTable: 0,
    collectionTable: 0,
    lpiPropTable: 0,
    lpiPendTable: 0,
    deviceL1Va: 0,
    deviceL2: [0, 0],
    ittTables: 0,
  };
}

// ---- guest code ------------------------------------------------------------------------

/** its_set_enable: GITS_CTLR.Enabled. */
function* itsSetEnable(enable: boolean): Guest {
  const ctlr = (yield op.read(GITS_BASE_GPA + GITS_CTLR, 4)).value;
  yield op.write(GITS_BASE_GPA + GITS_CTLR, 4, (enable ? ctlr | GITS_CTLR_ENABLE : ctlr & ~GITS_CTLR_ENABLE) >>> 0);
}

/** guest_shrink_coll_table: one page, Valid still set (BASER writes are ignored while the ITS is enabled). */
function* guestShrinkCollTable(t: TestData): Guest {
  const offset = yield* itsFindBaser(t, GITS_BASER_TYPE_COLLECTION); // its_baser_offset
  yield* itsSetEnable(false);
  const baser = yield* readq(GITS_BASE_GPA + offset);
  yield* writeq(GITS_BASE_GPA + offset, baser & ~GITS_BASER_PAGES_MASK);
}

/** guest_baser_change. */
function* guestBaserChange(t: TestData): Guest {
  yield* gicInit(t);
  yield* gicRdistEnableLpis(0, t.lpiPropTable, SZ_64K, t.lpiPendTable);
  yield* itsInit(t, t.collectionTable, COLL_TBL_SZ, t.deviceTable, SZ_64K, t.cmdqBase, SZ_64K);
  for (let collId = 0; collId < NR_COLLECTIONS; collId++) yield* itsSendMapcCmd(t, 0, collId, true);
  yield* guestShrinkCollTable(t);
  yield* ucall(UCALL_DONE);
}

/** guest_make_device_table_indirect: turn the installed device table into a two-level one. */
function* guestMakeDeviceTableIndirect(t: TestData): Guest {
  const offset = yield* itsFindBaser(t, GITS_BASER_TYPE_DEVICE);
  yield* itsSetEnable(false);
  const baser = yield* readq(GITS_BASE_GPA + offset);
  yield* writeq(GITS_BASE_GPA + offset, baser | GITS_BASER_INDIRECT);
  yield* itsSetEnable(true);
}

/** guest_unreachable_device. */
function* guestUnreachableDevice(t: TestData): Guest {
  yield* gicInit(t);
  yield* gicRdistEnableLpis(0, t.lpiPropTable, SZ_64K, t.lpiPendTable);
  yield* itsInit(t, t.collectionTable, SZ_64K, t.deviceTable, SZ_64K, t.cmdqBase, SZ_64K);
  yield* guestMakeDeviceTableIndirect(t);
  // Both L2 blocks present, so both MAPDs are in range.
  const l1 = t.deviceL1Va;
  yield* writeq(l1, L1E_VALID_MASK | (BigInt(t.deviceL2[0]) & L1E_ADDR_MASK));
  yield* writeq(l1 + 8, L1E_VALID_MASK | (BigInt(t.deviceL2[1]) & L1E_ADDR_MASK));
  yield* itsSendMapdCmd(t, DEVICE_A_ID, t.ittTables, ITT_MAPD_SIZE, true);
  yield* itsSendMapdCmd(t, DEVICE_B_ID, t.ittTables + ITT_SZ, ITT_MAPD_SIZE, true);
  // Drop the block holding device B: no ITS command and no GITS_BASER write tells KVM.
  yield* writeq(l1 + 8, 0n);
  yield* ucall(UCALL_DONE);
}

// ---- host side -----------------------------------------------------------------------

/** run_guest: one KVM_RUN to GUEST_DONE; UCALL_ABORT reports the guest's assertion. */
function runGuest(vcpu: Vcpu, t: TestData): void {
  const e = vcpu.run();
  if (e.reason !== KVM_EXIT_MMIO || e.physAddr !== UCALL_ADDR) throw new Error(`unexpected exit ${e.reason}`);
  if (e.value === UCALL_ABORT) throw new Error(`guest assertion failed: ${t.failures.join("; ")}`);
  if (e.value !== UCALL_DONE) throw new Error(`unexpected ucall 0x${e.value.toString(16)}`);
}

/** __kvm_device_attr_set's outcome: "ok" or the errno name. */
function ctrl(its: Device, attr: number): string {
  try {
    its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr });
    return "ok";
  } catch (e) {
    if (e instanceof KvmError) return e.code;
    throw e;
  }
}

const saveTables = (its: Device) => ctrl(its, KVM_DEV_ARM_ITS_SAVE_TABLES);

function itsRegGet(its: Device, offset: number): bigint {
  return BigInt(its.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ITS_REGS, attr: offset }) as bigint | number);
}

function itsRegSet(its: Device, offset: number, val: bigint): void {
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ITS_REGS, attr: offset, value: val });
}

/**
 * reset_and_restore_tables: the GITS_BASER<n> saved, ITS_CTRL_RESET (which clears
 * their Valid bits), written back, then RESTORE_TABLES; both must succeed.
 */
function resetAndRestoreTables(its: Device): void {
  const baser = Array.from({ length: GITS_BASER_NR_REGS }, (_, i) => itsRegGet(its, GITS_BASER + 8 * i));
  expect(ctrl(its, KVM_DEV_ARM_ITS_CTRL_RESET), "the reset").toBe("ok");
  baser.forEach((v, i) => {
    itsRegSet(its, GITS_BASER + 8 * i, v);
  });
  expect(ctrl(its, KVM_DEV_ARM_ITS_RESTORE_TABLES), "the restore").toBe("ok");
}

function poisonRange(vm: Vm, base: number, size: number): void {
  for (let i = 0; i < size / ESZ; i++) vm.memory.writeU64(base + i * ESZ, POISON);
}

/** vm_create_with_one_vcpu, setup_memslot(sz) and vgic_its_setup; `alloc64k` asserts what GITS_BASER can address. */
function setup(guest: (t: TestData) => Guest, slotSize: number, behaviour?: VitsBehaviour) {
  const { kvm, vm, vcpus } = vmWithVgicV3(1);
  if (behaviour !== undefined) registerVgicItsDevice(kvm, { behaviour });
  const slot = setupMemslot(vm, slotSize);
  const its = vgicItsSetup(vm);
  const t = newTestData();
  const alloc64k = (nr: number) => {
    const gpa = slot.alloc(nr * SZ_64K);
    expect(gpa % SZ_64K, `allocation at 0x${gpa.toString(16)}`).toBe(0);
    return gpa;
  };
  /** setup_common: the command queue and the LPI tables. */
  const setupCommon = () => {
    t.cmdqBase = alloc64k(1);
    t.lpiPropTable = alloc64k(1);
    t.lpiPendTable = alloc64k(1);
  };
  const vcpu = vcpus[0]!;
  vcpu.loadGuest({ main: () => guest(t) });
  return { vm, vcpu, its, t, alloc64k, setupCommon };
}

/** test_baser_change_drops_collections up to the save; the CTEs of the collection table after it. */
function baserChangeThenSave(behaviour?: VitsBehaviour) {
  const s = setup(guestBaserChange, (4 + COLL_TBL_PAGES) * SZ_64K, behaviour);
  s.t.deviceTable = s.alloc64k(1);
  s.t.collectionTable = s.alloc64k(COLL_TBL_PAGES);
  s.setupCommon();
  runGuest(s.vcpu, s.t);
  // Anything KVM writes is then the only thing that changed.
  poisonRange(s.vm, s.t.collectionTable, COLL_TBL_SZ);
  const saved = saveTables(s.its);
  const cte = (i: number) => s.vm.memory.readU64(s.t.collectionTable + i * ESZ);
  return { ...s, saved, cte };
}

/** test_unreachable_device_skipped up to the save. */
function unreachableDeviceThenSave(behaviour?: VitsBehaviour) {
  const s = setup(guestUnreachableDevice, 9 * SZ_64K, behaviour);
  s.t.deviceTable = s.alloc64k(1);
  s.t.collectionTable = s.alloc64k(1);
  s.t.deviceL2[0] = s.alloc64k(1);
  s.t.deviceL2[1] = s.alloc64k(1);
  s.t.ittTables = s.alloc64k(2);
  s.setupCommon();
  s.t.deviceL1Va = s.t.deviceTable;
  runGuest(s.vcpu, s.t);
  poisonRange(s.vm, s.t.deviceL2[0], SZ_64K);
  poisonRange(s.vm, s.t.deviceL2[1], SZ_64K);
  const saved = saveTables(s.its);
  return { ...s, saved };
}

describe("vgic_its_save (tools/testing/selftests/kvm/arm64/vgic_its_save.c)", () => {
  describe("test_baser_change_drops_collections", () => {
    test("the save writes only the terminating invalid entry; reset and restore succeed", () => {
      const { its, saved, cte } = baserChangeThenSave();
      expect(saved, "the save").toBe("ok");
      // Finding the terminator at the head of the table also proves the reads below hit the saved table.
      expect(cte(0), "CTE 0").toBe(0n);
      const touched = [];
      for (let i = 1; i < COLL_TBL_SZ / ESZ; i++) if (cte(i) !== POISON) touched.push(i);
      expect(touched, "CTEs written after the terminator").toEqual([]);
      resetAndRestoreTables(its);
    });

    test("beyond upstream, linux-6.6: the shrink left the 8193 collections, saved past the one-page table", () => {
      const { its, saved, cte } = baserChangeThenSave("linux-6.6");
      expect(saved).toBe("ok");
      // vgic_its_save_collection_table() has no bound: entries 0 .. 8192 valid, then the terminator.
      expect(cte(0) & (1n << 63n)).toBe(1n << 63n);
      expect(cte(NR_COLLECTIONS - 1)).toBe((1n << 63n) | BigInt(NR_COLLECTIONS - 1));
      expect(cte(NR_COLLECTIONS)).toBe(0n);
      expect(cte(NR_COLLECTIONS + 1)).toBe(POISON);
      // The restore reads the one page (8192 collections) and stops at its end.
      resetAndRestoreTables(its);
    });
  });

  describe("test_unreachable_device_skipped", () => {
    test("device A's DTE is saved and ends the chain; device B's dropped block is left alone; reset and restore succeed", () => {
      const { vm, its, t, saved } = unreachableDeviceThenSave();
      expect(saved, "the save").toBe("ok");
      const dte = vm.memory.readU64(t.deviceL2[0]);
      expect(dte & DTE_VALID_MASK, "device A: a valid DTE").toBe(DTE_VALID_MASK);
      expect((dte & DTE_NEXT_MASK) >> DTE_NEXT_SHIFT, "device A: no next device").toBe(0n);
      expect(vm.memory.readU64(t.deviceL2[1]), "device B: its entry untouched").toBe(POISON);
      resetAndRestoreTables(its);
    });

    test("beyond upstream, linux-6.6: the unreachable device fails the save with EINVAL after device A's DTE pointed at it", () => {
      const { vm, t, saved } = unreachableDeviceThenSave("linux-6.6");
      expect(saved).toBe("EINVAL");
      // Devices are saved in DeviceID order: A's DTE went out first, its chain naming B (offset 8192).
      const dte = vm.memory.readU64(t.deviceL2[0]);
      expect(dte & DTE_VALID_MASK).toBe(DTE_VALID_MASK);
      expect((dte & DTE_NEXT_MASK) >> DTE_NEXT_SHIFT).toBe(BigInt(DEVICE_B_ID - DEVICE_A_ID));
      expect(vm.memory.readU64(t.deviceL2[1])).toBe(POISON);
    });
  });
});
