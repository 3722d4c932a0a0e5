/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/vgic_lpi_stress.c,
 * with the lib/arm64 helpers it uses (gic_v3_its.c its_init and
 * its_send_{mapd,mapc,mapti,invall,sync}_cmd; gic_v3.c
 * gic_rdist_enable_lpis; vgic.c vgic_its_setup), rewritten against
 * irqlab's API.
 *
 * The guest of vCPU 0 programs everything itself, as upstream: each vCPU
 * points its redistributor at the shared LPI configuration table and its own
 * pending table and sets EnableLPIs; vCPU 0 then installs the ITS device and
 * collection tables and the command queue, enables the ITS, and writes
 * MAPC (one collection per vCPU), MAPD and MAPTI (LPIs from 8192, collections
 * round-robin over the vCPUs), INVALL and SYNC into the queue, advancing
 * GITS_CWRITER after each and asserting that GITS_CREADR has caught up at
 * the first read (GITS_CMDQ_POLL_ITERATIONS is 0). Every vCPU then makes
 * GUEST_SYNC and spins until the host sets request_vcpus_stop.
 *
 * Threads. Upstream runs a thread per vCPU and a KVM_SIGNAL_MSI worker per
 * device, released together by a barrier once every vCPU has synced. Here
 * the vCPUs take 100 µs turns of the shared virtual clock (as threads on one
 * host CPU would), and each worker is a chain of events on that clock, one
 * signal_lpi() every SIGNAL_INTERVAL_NS, which fire while the vCPUs run:
 * the injections interleave with KVM_RUN the same way on every run.
 *
 * What upstream checks is that every KVM_SIGNAL_MSI returns 1 (a valid
 * translation) and, in guest_irq_handler, that each INTID is an LPI.
 * Upstream's guest never unmasks interrupts (PSTATE after reset has DAIF set,
 * arch/arm64/kvm/reset.c VCPU_RESET_PSTATE_EL1, and guest_code never calls
 * local_irq_enable), so its handler does not run during the stress: the
 * LPIs only become pending. The port keeps that and adds what upstream does
 * not check: after the stop request the guest unmasks and takes what is
 * pending, counting acknowledgements per INTID, and the host then checks
 * that every LPI was received after its last signal (an edge LPI signalled
 * again while pending is one interrupt, so "received" means the last
 * acknowledgement follows the last signal) and that nothing is left pending
 * (GUEST_ASSERT_IAR_EMPTY).
 *
 * Two runs go beyond upstream: one where the guest spins with interrupts
 * unmasked, so its handler acknowledges LPIs while the workers signal them,
 * and one where the workers signal through irqfds bound to MSI routes
 * (KVM_SET_GSI_ROUTING with KVM_IRQ_ROUTING_MSI and KVM_MSI_VALID_DEVID,
 * kvm_set_msi → vgic_its_inject_msi) instead of KVM_SIGNAL_MSI.
 *
 * Sizes: upstream's defaults (-v 1 -d 1 -e 16 -i 1000: 16,000 MSIs) run as
 * they are. The -v 4 -d 4 runs keep 16,000 MSIs per run by scaling -i to
 * 250, so each takes about as long as the default one.
 *
 * test_data, nr_cpus_ready and the per-INTID counts live in a host object the
 * guest code reads and writes (as vgic_irq.test.ts does with its shared
 * data); the tables and the command queue are guest memory in the test's
 * memslot at the top of the IPA space, as setup_memslot places them.
 * GUEST_SYNC, GUEST_DONE and a failed GUEST_ASSERT are 8-byte stores to the
 * ucall address, which no device claims (KVM_EXIT_MMIO).
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
  GITS_TRANSLATER,
  ICC_EOIR1_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
  LPI_PROP_ENABLED,
  LPI_PROP_GROUP1,
} from "@irqlab/gic";
import { op, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  EventFd,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_TYPE_ARM_VGIC_ITS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_EXIT_INTR,
  KVM_EXIT_MMIO,
  KVM_IRQ_ROUTING_MSI,
  KVM_MSI_VALID_DEVID,
  KVM_VGIC_ITS_ADDR_TYPE,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION,
  Kvm,
  redistRegionAttr,
  type MsiRoute,
  type Vcpu,
  type Vm,
} from "../../src/index.js";

/** include/arm64/gic.h: the ITS first, then the distributor, then the redistributors. */
const GITS_BASE_GPA = 0x0800_0000;
const GICD_BASE_GPA = GITS_BASE_GPA + 0x2_0000; // + KVM_VGIC_V3_ITS_SIZE
const GICR_BASE_GPA = GICD_BASE_GPA + 0x1_0000; // + KVM_VGIC_V3_DIST_SIZE
/** A GICv3 redistributor: RD_base and SGI_base frames. */
const GICR_STRIDE = 0x2_0000;
const UCALL_ADDR = 0x2000_0000;
const UCALL_SYNC = 0x5c;
const UCALL_DONE = 0xd0e;
const UCALL_ABORT = 0xab0;

const SZ_4K = 0x1000;
const SZ_64K = 0x1_0000;
const TEST_MEMSLOT_INDEX = 1;
/** The IPA size of a VM created with type 0 (arch/arm64/kvm/mmu.c kvm_init_stage2_mmu: 40 bits). */
const VM_IPA_BITS = 40;
const GIC_LPI_OFFSET = 8192;
const IAR_SPURIOUS = 1023;
const LPI_PROP_DEFAULT_PRIO = 0xa0;
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

/** How long one vCPU runs before the next takes the clock (upstream: threads on host CPUs). */
const QUANTUM_NS = 100_000;
/** Virtual time between two signal_lpi() calls of one worker: about one KVM_SIGNAL_MSI ioctl. */
const SIGNAL_INTERVAL_NS = 1_000;
/** cpu_relax() in the guest's wait loops. */
const CPU_RELAX_NS = 200;

type Guest<T = void> = Generator<GuestOp, T, GuestResult>;

/** The command-line parameters (-v, -d, -e, -i) and the two variants beyond upstream. */
interface Params {
  readonly nrCpus: number;
  readonly nrDevices: number;
  readonly nrEventIds: number;
  readonly nrIterations: number;
  /** Signal through irqfds with MSI routes instead of KVM_SIGNAL_MSI. */
  readonly irqfd?: boolean;
  /** Spin with interrupts unmasked, so the handler runs during the stress. */
  readonly unmaskedSpin?: boolean;
}

/** struct test_data, the guest's shared counters, and what the host saw. */
interface TestData {
  readonly p: Params;
  requestVcpusStop: boolean;
  deviceTable: number;
  collectionTable: number;
  cmdqBase: number;
  ittTables: number;
  lpiPropTable: number;
  lpiPendTables: number;
  nrCpusReady: number;
  distInitialised: boolean;
  /** Per LPI (INTID − 8192): signals sent, acknowledgements, the signal count at the last acknowledgement. */
  readonly signalled: number[];
  readonly acked: number[];
  readonly signalsBeforeLastAck: number[];
  /** The vCPUs that acknowledged each LPI. */
  readonly ackedOn: Set<number>[];
  /** Acknowledgements taken before the stop request. */
  acksDuringStress: number;
  msiResults: Map<number, number>;
  readonly failures: string[];
}

const nrLpis = (p: Params) => p.nrDevices * p.nrEventIds;

// ---- 64-bit accesses --------------------------------------------------------------

const lo32 = (v: bigint) => Number(v & 0xffff_ffffn);
const hi32 = (v: bigint) => Number((v >> 32n) & 0xffff_ffffn);

function* writeq(addr: number, v: bigint): Guest {
  yield op.write(addr, 8, lo32(v), hi32(v));
}

function* readq(addr: number): Guest<bigint> {
  const r = yield op.read(addr, 8);
  return (BigInt(r.hi >>> 0) << 32n) | BigInt(r.value >>> 0);
}

/** GUEST_ASSERT: the failure is recorded and the host sees UCALL_ABORT. */
function* guestAssert(t: TestData, ok: boolean, what: string): Guest {
  if (ok) return;
  t.failures.push(what);
  yield op.write(UCALL_ADDR, 8, UCALL_ABORT, 0);
}

// ---- lib/arm64/gic_v3.c -----------------------------------------------------------

/** gic_init(GIC_V3, nr_cpus): the distributor once (ARE, Group 1), then this CPU's interface. */
function* gicInit(t: TestData): Guest {
  if (!t.distInitialised) {
    t.distInitialised = true;
    yield op.write(GICD_BASE_GPA + GICD_CTLR, 4, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_SS_G1);
  }
  yield op.msr(ICC_PMR_EL1, DEFAULT_PMR_VALUE);
  yield op.msr(ICC_IGRPEN1_EL1, 1);
}

/** gic_rdist_enable_lpis(cfg_table, cfg_table_size, pend_table) on this vCPU's redistributor. */
function* gicRdistEnableLpis(cpuid: number, cfgTable: number, cfgTableSize: number, pendTable: number): Guest {
  const rd = GICR_BASE_GPA + cpuid * GICR_STRIDE;
  const idBits = BigInt(Math.log2(cfgTableSize) - 1) & GICR_PROPBASER_IDBITS_MASK;
  yield* writeq(rd + GICR_PROPBASER, BigInt(cfgTable) | GICR_PROPBASER_INNER_SHAREABLE | GICR_PROPBASER_RAWAWB | idBits);
  yield* writeq(rd + GICR_PENDBASER, BigInt(pendTable) | GICR_PENDBASER_INNER_SHAREABLE | GICR_PENDBASER_RAWAWB);
  const ctlr = (yield op.read(rd + GICR_CTLR, 4)).value;
  yield op.write(rd + GICR_CTLR, 4, (ctlr | GICR_CTLR_ENABLE_LPIS) >>> 0);
}

// ---- lib/arm64/gic_v3_its.c -------------------------------------------------------

/** its_find_baser(type): the GITS_BASER<n> whose Type field (bits [58:56]) is `type`. */
function* itsFindBaser(t: TestData, type: number): Guest<number> {
  for (let i = 0; i < GITS_BASER_NR_REGS; i++) {
    const offset = GITS_BASER + 8 * i;
    if (Number(((yield* readq(GITS_BASE_GPA + offset)) >> 56n) & 7n) === type) return offset;
  }
  yield* guestAssert(t, false, `no ITS BASER of type ${type}`);
  return -1;
}

/** its_install_table: a flat table of 64 KiB pages. */
function* itsInstallTable(t: TestData, type: number, base: number, size: number): Guest {
  const offset = yield* itsFindBaser(t, type);
  const baser = BigInt(size / SZ_64K - 1) | GITS_BASER_PAGE_SIZE_64K | GITS_BASER_INNER_SHAREABLE | BigInt(base) | GITS_BASER_RAWAWB | GITS_BASER_VALID;
  yield* writeq(GITS_BASE_GPA + offset, baser);
}

/** its_init: collection table, device table, command queue, then GITS_CTLR.Enabled. */
function* itsInit(t: TestData, collTbl: number, collTblSz: number, deviceTbl: number, deviceTblSz: number, cmdq: number, cmdqSize: number): Guest {
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
function* itsSendCmd(t: TestData, cmd: ItsCmd): Guest {
  const cwriter = Number(yield* readq(GITS_BASE_GPA + GITS_CWRITER));
  const cbaser = yield* readq(GITS_BASE_GPA + GITS_CBASER);
  const cmdqSize = (Number(cbaser & 0xffn) + 1) * SZ_4K;
  for (let i = 0; i < 4; i++) yield* writeq(t.cmdqBase + cwriter + 8 * i, cmd[i]!);
  const next = (cwriter + 32) % cmdqSize;
  yield* writeq(GITS_BASE_GPA + GITS_CWRITER, BigInt(next));
  const creadr = Number(yield* readq(GITS_BASE_GPA + GITS_CREADR));
  yield* guestAssert(t, creadr === next, `ITS didn't process command at offset ${cwriter} after 0 iterations (GITS_CREADR 0x${creadr.toString(16)})`);
}

function* itsSendMapdCmd(t: TestData, deviceId: number, ittBase: number, ittSize: number, valid: boolean): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_MAPD), 7n, 0n);
  encode(cmd, 0, BigInt(deviceId), 63n, 32n);
  encode(cmd, 1, BigInt(Math.log2(ittSize) - 1), 4n, 0n);
  encode(cmd, 2, BigInt(ittBase) >> 8n, 51n, 8n);
  encode(cmd, 2, valid ? 1n : 0n, 63n, 63n);
  yield* itsSendCmd(t, cmd);
}

function* itsSendMapcCmd(t: TestData, vcpuId: number, collectionId: number, valid: boolean): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_MAPC), 7n, 0n);
  encode(cmd, 2, BigInt(collectionId), 15n, 0n);
  encode(cmd, 2, procnumToRdbase(vcpuId) >> 16n, 51n, 16n);
  encode(cmd, 2, valid ? 1n : 0n, 63n, 63n);
  yield* itsSendCmd(t, cmd);
}

function* itsSendMaptiCmd(t: TestData, deviceId: number, eventId: number, collectionId: number, intid: number): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_MAPTI), 7n, 0n);
  encode(cmd, 0, BigInt(deviceId), 63n, 32n);
  encode(cmd, 1, BigInt(eventId), 31n, 0n);
  encode(cmd, 1, BigInt(intid), 63n, 32n);
  encode(cmd, 2, BigInt(collectionId), 15n, 0n);
  yield* itsSendCmd(t, cmd);
}

function* itsSendInvallCmd(t: TestData, collectionId: number): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_INVALL), 7n, 0n);
  encode(cmd, 2, BigInt(collectionId), 15n, 0n);
  yield* itsSendCmd(t, cmd);
}

function* itsSendSyncCmd(t: TestData, vcpuId: number): Guest {
  const cmd: ItsCmd = [0n, 0n, 0n, 0n];
  encode(cmd, 0, BigInt(GITS_CMD_SYNC), 7n, 0n);
  encode(cmd, 2, procnumToRdbase(vcpuId) >> 16n, 51n, 16n);
  yield* itsSendCmd(t, cmd);
}

// ---- vgic_lpi_stress.c guest code -------------------------------------------------

/** guest_irq_handler: acknowledge, assert it is an LPI, EOI; plus the port's bookkeeping. */
function* guestIrqHandler(t: TestData, cpuid: number): Guest {
  const intid = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
  if (intid === IAR_SPURIOUS) return;
  yield* guestAssert(t, intid >= GIC_LPI_OFFSET && intid < GIC_LPI_OFFSET + nrLpis(t.p), `INTID ${intid} is not one of the test's LPIs`);
  const i = intid - GIC_LPI_OFFSET;
  if (i >= 0 && i < nrLpis(t.p)) {
    t.acked[i]!++;
    t.signalsBeforeLastAck[i] = t.signalled[i]!;
    t.ackedOn[i]!.add(cpuid);
    if (!t.requestVcpusStop) t.acksDuringStress++;
  }
  yield op.msr(ICC_EOIR1_EL1, intid); // gic_set_eoi
}

/** guest_setup_its_mappings: MAPC per vCPU, then per device MAPD and a MAPTI per event, collections round-robin. */
function* guestSetupItsMappings(t: TestData): Guest {
  const { nrCpus, nrDevices, nrEventIds } = t.p;
  let intid = GIC_LPI_OFFSET;
  for (let collId = 0; collId < nrCpus; collId++) yield* itsSendMapcCmd(t, collId, collId, true);
  let collId = 0;
  for (let deviceId = 0; deviceId < nrDevices; deviceId++) {
    yield* itsSendMapdCmd(t, deviceId, t.ittTables + deviceId * SZ_64K, SZ_64K, true);
    for (let eventId = 0; eventId < nrEventIds; eventId++) {
      yield* itsSendMaptiCmd(t, deviceId, eventId, collId, intid++);
      collId = (collId + 1) % nrCpus;
    }
  }
}

/** guest_setup_gic: every vCPU enables its LPIs; vCPU 0 waits for the others, then sets up the ITS. */
function* guestSetupGic(t: TestData, cpuid: number): Guest {
  yield* gicInit(t);
  yield* gicRdistEnableLpis(cpuid, t.lpiPropTable, SZ_64K, t.lpiPendTables + cpuid * SZ_64K);
  t.nrCpusReady++; // atomic_fetch_add: no yield between the read and the write
  if (cpuid > 0) return;
  while (t.nrCpusReady < t.p.nrCpus) yield op.compute(CPU_RELAX_NS);
  yield* itsInit(t, t.collectionTable, SZ_64K, t.deviceTable, SZ_64K, t.cmdqBase, SZ_64K);
  yield* guestSetupItsMappings(t);
  for (let i = 0; i < t.p.nrCpus; i++) yield* itsSendInvallCmd(t, i); // guest_invalidate_all_rdists
  for (let i = 0; i < t.p.nrCpus; i++) yield* itsSendSyncCmd(t, i);
}

/**
 * guest_code: set up, GUEST_SYNC, spin (no WFI, as upstream) until the stop
 * request; then, beyond upstream, unmask and take what is pending and
 * assert that nothing is left before GUEST_DONE.
 */
function* guestCode(t: TestData, cpuid: number): Guest {
  yield* guestSetupGic(t, cpuid);
  yield op.write(UCALL_ADDR, 8, UCALL_SYNC, 0);
  if (t.p.unmaskedSpin === true) yield op.unmask();
  while (!t.requestVcpusStop) yield op.compute(CPU_RELAX_NS);
  yield op.unmask(); // every pending LPI is taken here, at the next instruction boundary
  yield op.compute(CPU_RELAX_NS);
  yield op.mask();
  const left = (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff; // GUEST_ASSERT_IAR_EMPTY
  yield* guestAssert(t, left === IAR_SPURIOUS, `vCPU ${cpuid}: IAR gave ${left} after the drain`);
  yield op.write(UCALL_ADDR, 8, UCALL_DONE, 0);
}

// ---- host side -----------------------------------------------------------------------

/** The vCPUs' ucall exits; anything else is a test failure. */
function ucallOf(vcpu: Vcpu, t: TestData): number | undefined {
  const e = vcpu.run(0, { until: vcpu.vm.kvm.queue.now + QUANTUM_NS });
  if (e.reason === KVM_EXIT_INTR) return undefined;
  if (e.reason !== KVM_EXIT_MMIO || e.physAddr !== UCALL_ADDR) {
    t.failures.push(`vCPU ${vcpu.vcpuId}: unexpected exit ${e.reason}`);
    return UCALL_ABORT;
  }
  return e.value;
}

/**
 * setup_vm: vm_create_with_vcpus (with the default vgic-v3, __vgic_v3_setup(vm,
 * nr_vcpus, 64) and its CTRL_INIT at vCPU finalisation), setup_memslot,
 * vgic_its_setup, setup_test_data with configure_lpis.
 */
function setupVm(p: Params) {
  const kvm = new Kvm({ arch: "arm64" });
  const vm = kvm.createVm();
  const vcpus = Array.from({ length: p.nrCpus }, (_, i) => {
    const v = vm.createVcpu(i);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    return v;
  });
  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 64 });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: GICD_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, value: redistRegionAttr(0, GICR_BASE_GPA, p.nrCpus) });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });

  // setup_memslot: 3 ITS tables + an ITT per device, the LPI property table + a pending table per vCPU, at the top of the IPA space.
  const sz = (3 + p.nrDevices) * SZ_64K + (1 + p.nrCpus) * SZ_64K;
  // vm_compute_max_gfn: a VM of type 0 has a 40-bit IPA space (KVM_VM_TYPE_ARM_IPA_SIZE 0 → 40 bits).
  const gpaBase = 2 ** VM_IPA_BITS - sz;
  vm.setUserMemoryRegion({ slot: TEST_MEMSLOT_INDEX, guestPhysAddr: gpaBase, memorySize: sz });

  // vgic_its_setup
  const its = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: GITS_BASE_GPA });
  its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });

  // setup_test_data: vm_phy_pages_alloc hands out the memslot from its base upwards.
  let next = gpaBase;
  const alloc = (bytes: number) => {
    const at = next;
    next += bytes;
    return at;
  };
  const n = nrLpis(p);
  const t: TestData = {
    p,
    requestVcpusStop: false,
    deviceTable: alloc(SZ_64K),
    collectionTable: alloc(SZ_64K),
    cmdqBase: alloc(SZ_64K),
    ittTables: alloc(SZ_64K * p.nrDevices),
    lpiPropTable: alloc(SZ_64K),
    lpiPendTables: alloc(SZ_64K * p.nrCpus),
    nrCpusReady: 0,
    distInitialised: false,
    signalled: new Array<number>(n).fill(0),
    acked: new Array<number>(n).fill(0),
    signalsBeforeLastAck: new Array<number>(n).fill(-1),
    ackedOn: Array.from({ length: n }, () => new Set<number>()),
    acksDuringStress: 0,
    msiResults: new Map(),
    failures: [],
  };
  // configure_lpis
  for (let i = 0; i < n; i++) vm.memory.writeU8(t.lpiPropTable + i, LPI_PROP_DEFAULT_PRIO | LPI_PROP_GROUP1 | LPI_PROP_ENABLED);
  vcpus.forEach((v, cpuid) =>
    v.loadGuest({
      main: () => guestCode(t, cpuid),
      vector: () => guestIrqHandler(t, cpuid),
    }),
  );
  return { kvm, vm, vcpus, t };
}

/** The doorbell every MSI is written to: GITS_BASE_GPA + GITS_TRANSLATER. */
const DB_ADDR = GITS_BASE_GPA + GITS_TRANSLATER;

/**
 * How one worker injects (device, event): signal_lpi's KVM_SIGNAL_MSI,
 * asserting the return value 1, or an irqfd bound to an MSI route
 * (GSI = device × nr_event_ids + event) with the same address, data and
 * DeviceID.
 */
function lpiInjector(vm: Vm, t: TestData): (deviceId: number, eventId: number) => void {
  const { nrDevices, nrEventIds } = t.p;
  if (t.p.irqfd !== true) {
    return (deviceId, eventId) => {
      const r = vm.signalMsi({ addressLo: DB_ADDR, addressHi: 0, data: eventId, devid: deviceId, flags: KVM_MSI_VALID_DEVID });
      t.msiResults.set(r, (t.msiResults.get(r) ?? 0) + 1);
    };
  }
  const routes: MsiRoute[] = [];
  const fds: EventFd[] = [];
  for (let d = 0; d < nrDevices; d++) {
    for (let e = 0; e < nrEventIds; e++) {
      const gsi = d * nrEventIds + e;
      routes.push({ gsi, type: KVM_IRQ_ROUTING_MSI, flags: KVM_MSI_VALID_DEVID, addressLo: DB_ADDR, addressHi: 0, data: e, devid: d });
      const fd = new EventFd();
      vm.irqfd({ fd, gsi });
      fds.push(fd);
    }
  }
  vm.setGsiRouting(routes);
  return (deviceId, eventId) => fds[deviceId * nrEventIds + eventId]!.signal();
}

/**
 * run_test: the vCPUs run in turns; when all have made GUEST_SYNC (the
 * barrier), one lpi_worker_thread per device starts on the virtual clock;
 * when every worker is done, request_vcpus_stop is set; the vCPUs then end
 * with GUEST_DONE.
 */
function runTest(p: Params): TestData {
  const { kvm, vm, vcpus, t } = setupVm(p);
  const q = kvm.queue;
  const signalLpi = lpiInjector(vm, t);
  const atBarrier = vcpus.map(() => false);
  const done = vcpus.map(() => false);
  let workersStarted = false;
  let workersLeft = p.nrDevices;

  const startWorker = (deviceId: number) => {
    let iteration = 0;
    let eventId = 0;
    const step = () => {
      signalLpi(deviceId, eventId);
      t.signalled[deviceId * p.nrEventIds + eventId]!++;
      if (++eventId === p.nrEventIds) {
        eventId = 0;
        iteration++;
      }
      if (iteration < p.nrIterations) q.schedule(q.now + SIGNAL_INTERVAL_NS, step);
      else workersLeft--;
    };
    q.schedule(q.now, step);
  };

  for (let turn = 0; done.includes(false); turn++) {
    if (turn > 100_000) throw new Error("the vCPUs did not finish");
    for (const [i, v] of vcpus.entries()) {
      if (done[i] === true || (atBarrier[i] === true && !workersStarted)) continue;
      const uc = ucallOf(v, t);
      if (uc === UCALL_SYNC) atBarrier[i] = true;
      else if (uc === UCALL_DONE) done[i] = true;
      else if (uc !== undefined) throw new Error(`vCPU ${i}: GUEST_ASSERT failed: ${t.failures.join("; ")}`);
    }
    if (!workersStarted && !atBarrier.includes(false)) {
      workersStarted = true;
      for (let d = 0; d < p.nrDevices; d++) startWorker(d);
    }
    if (workersStarted && workersLeft === 0) t.requestVcpusStop = true; // write_guest_global
  }
  return t;
}

/** The checks every run shares: no failure, every LPI signalled nr_iterations times and received after its last signal. */
function expectEveryLpiReceived(t: TestData): void {
  const { p } = t;
  expect(t.failures).toEqual([]);
  expect(t.signalled).toEqual(new Array(nrLpis(p)).fill(p.nrIterations));
  expect(t.signalsBeforeLastAck).toEqual(t.signalled);
  for (const [i, n] of t.acked.entries()) {
    expect(n, `LPI ${GIC_LPI_OFFSET + i}`).toBeGreaterThanOrEqual(1);
    expect(n, `LPI ${GIC_LPI_OFFSET + i}`).toBeLessThanOrEqual(p.nrIterations);
  }
  // Round-robin: LPI k went to collection k mod nr_cpus, mapped to that vCPU.
  for (const [i, on] of t.ackedOn.entries()) expect([...on], `LPI ${GIC_LPI_OFFSET + i}`).toEqual([i % p.nrCpus]);
}

describe("vgic_lpi_stress (tools/testing/selftests/kvm/arm64/vgic_lpi_stress.c)", () => {
  test("main with the defaults (-v 1 -d 1 -e 16 -i 1000): 16,000 KVM_SIGNAL_MSI each return 1; the masked guest takes each LPI once after the stop", () => {
    const t = runTest({ nrCpus: 1, nrDevices: 1, nrEventIds: 16, nrIterations: 1000 });
    expectEveryLpiReceived(t);
    expect([...t.msiResults]).toEqual([[1, 16_000]]);
    // Upstream's guest spins with interrupts masked: nothing is taken until the drain, where the
    // 1000 signals of each edge LPI are one pending interrupt.
    expect(t.acksDuringStress).toBe(0);
    expect(t.acked).toEqual(new Array(16).fill(1));
  });

  test("main -v 4 -d 4 -e 16 -i 250: four devices' workers, LPIs round-robin over four vCPUs", () => {
    const t = runTest({ nrCpus: 4, nrDevices: 4, nrEventIds: 16, nrIterations: 250 });
    expectEveryLpiReceived(t);
    expect([...t.msiResults]).toEqual([[1, 16_000]]);
    expect(t.acked).toEqual(new Array(64).fill(1));
  });

  test("beyond upstream: -v 4 -d 4 -e 16 -i 250 with the guest spinning unmasked: its handler acknowledges LPIs while they are signalled", () => {
    const t = runTest({ nrCpus: 4, nrDevices: 4, nrEventIds: 16, nrIterations: 250, unmaskedSpin: true });
    expectEveryLpiReceived(t);
    expect([...t.msiResults]).toEqual([[1, 16_000]]);
    expect(t.acksDuringStress).toBeGreaterThan(64);
  });

  test("beyond upstream: -v 4 -d 4 -e 16 -i 250 signalled through irqfds with MSI routes, guest unmasked", () => {
    const t = runTest({ nrCpus: 4, nrDevices: 4, nrEventIds: 16, nrIterations: 250, unmaskedSpin: true, irqfd: true });
    expectEveryLpiReceived(t);
    expect(t.msiResults.size).toBe(0);
    expect(t.acksDuringStress).toBeGreaterThan(64);
  });
});
