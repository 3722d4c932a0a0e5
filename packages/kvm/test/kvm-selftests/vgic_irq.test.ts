/**
 * Linux's KVM selftest tools/testing/selftests/kvm/arm64/vgic_irq.c, rewritten
 * against irqlab's API: test_vgic() for the four combinations main() runs by
 * default (64 IRQs; edge or level; EOImode 0 or split EOI + DIR). The guest
 * asks the host, through GUEST_SYNC, to inject INTIDs by each method the
 * mode allows — KVM_IRQ_LINE, GRP_LEVEL_INFO, irqfd with irqchip routes,
 * ISPENDR / ISACTIVER written through GRP_(RE)DIST_REGS — and checks, in its
 * IRQ handler and afterwards, that it got exactly those: test_injection,
 * test_preemption (nested activation by priority with interrupts masked),
 * test_injection_failure (bad INTIDs: EINVAL from the ioctls, nothing
 * delivered) and test_restore_active (active state and AP1R0 restored, then
 * EOI/DIR in priority order), with the lib/arm64 gic_v3 helpers they use.
 *
 * GUEST_SYNC is an 8-byte store to the ucall address, which no device claims
 * (KVM_EXIT_MMIO), as ucall_arch_do_ucall does on arm64; the arguments travel
 * beside it in a host object instead of a guest page. A failed GUEST_ASSERT
 * is recorded and the run goes on, so one test reports every failure.
 * test_vgic_two_cpus runs both guest codes (guest_code_asym_dir,
 * guest_code_group_en) with the two vCPUs taking turns at every exit; their
 * shared_data is an unclaimed address the host serves (see SHARED_ADDR).
 */
import {
  GICD_CTLR,
  GICD_CTLR_ARE_NS,
  GICD_CTLR_ENABLE_SS_G1,
  GICD_ICFGR,
  GICD_IPRIORITYR,
  GICD_ISACTIVER,
  GICD_ISENABLER,
  GICD_ISPENDR,
  GICR_IGROUPR0,
  GICR_IPRIORITYR0,
  GICR_ISACTIVER0,
  GICR_ISENABLER0,
  GICR_ISPENDR0,
  GICR_SGI_BASE,
  ICC_AP1Rn_EL1,
  ICC_CTLR_EL1,
  ICC_CTLR_EL1_EOImode_drop,
  ICC_DIR_EL1,
  ICC_EOIR1_EL1,
  ICC_IAR0_EL1,
  ICC_IAR1_EL1,
  ICC_IGRPEN0_EL1,
  ICC_IGRPEN1_EL1,
  ICC_PMR_EL1,
} from "@irqlab/gic";
import { op, type GuestOp, type GuestResult } from "@irqlab/sim";
import { describe, expect, test } from "vitest";
import {
  EventFd,
  KVM_ARM_IRQ_TYPE_PPI,
  KVM_ARM_IRQ_TYPE_SHIFT,
  KVM_ARM_IRQ_TYPE_SPI,
  KVM_ARM_TARGET_GENERIC_V8,
  KVM_CAP_IRQ_ROUTING,
  KVM_DEV_ARM_VGIC_CTRL_INIT,
  KVM_DEV_ARM_VGIC_GRP_ADDR,
  KVM_DEV_ARM_VGIC_GRP_CTRL,
  KVM_DEV_ARM_VGIC_GRP_DIST_REGS,
  KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO,
  KVM_DEV_ARM_VGIC_GRP_NR_IRQS,
  KVM_DEV_ARM_VGIC_GRP_REDIST_REGS,
  KVM_DEV_TYPE_ARM_VGIC_V3,
  KVM_EXIT_MMIO,
  KVM_IRQ_ROUTING_IRQCHIP,
  KVM_VGIC_V3_ADDR_TYPE_DIST,
  KVM_VGIC_V3_ADDR_TYPE_REDIST,
  Kvm,
  type Device,
  type IrqchipRoute,
  type Vm,
} from "../../src/index.js";
import { errnoOf } from "../errno-of.js";

/** lib/arm64 defaults of __vgic_v3_setup, and the ucall address. */
const GICD_BASE_GPA = 0x0800_0000;
const GICR_BASE_GPA = 0x080a_0000;
const UCALL_ADDR = 0x2000_0000;

const MIN_SGI = 0;
const MIN_PPI = 16;
const MIN_SPI = 32;
const IAR_SPURIOUS = 1023;
/** 32 priority levels in steps of 8; the default priority 0xf0, the CPU mask 0xf8. */
const KVM_NUM_PRIOS = 32;
const KVM_PRIO_STEPS = 8;
const IRQ_DEFAULT_PRIO_REG = (KVM_NUM_PRIOS - 2) << 3;
const CPU_PRIO_MASK = (KVM_NUM_PRIOS - 1) << 3;
/** KVM_ARM_IRQ_NUM_MASK, VGIC_MAX_RESERVED, KVM_IRQCHIP_NUM_PINS (arm64). */
const KVM_ARM_IRQ_NUM_MASK = 0xffff;
const VGIC_MAX_RESERVED = 1023;
const KVM_IRQCHIP_NUM_PINS = 1020 - 32;

/** kvm_inject_cmd. */
const enum Cmd {
  EDGE_IRQ_LINE = 1,
  SET_IRQ_LINE,
  SET_IRQ_LINE_HIGH,
  SET_LEVEL_INFO_HIGH,
  INJECT_IRQFD,
  WRITE_ISPENDR,
  WRITE_ISACTIVER,
}

interface InjectDesc {
  readonly cmd: Cmd;
  readonly sgi: boolean;
  readonly ppi: boolean;
  readonly spi: boolean;
}

/** inject_edge_fns, inject_level_fns, set_active_fns (KVM_CAP_IRQFD is 1: all supported). */
const INJECT_EDGE_FNS: readonly InjectDesc[] = [
  { cmd: Cmd.EDGE_IRQ_LINE, sgi: false, ppi: false, spi: true },
  { cmd: Cmd.INJECT_IRQFD, sgi: false, ppi: false, spi: true },
  { cmd: Cmd.WRITE_ISPENDR, sgi: true, ppi: false, spi: true },
];
const INJECT_LEVEL_FNS: readonly InjectDesc[] = [
  { cmd: Cmd.SET_IRQ_LINE_HIGH, sgi: false, ppi: true, spi: true },
  { cmd: Cmd.SET_LEVEL_INFO_HIGH, sgi: false, ppi: true, spi: true },
  { cmd: Cmd.INJECT_IRQFD, sgi: false, ppi: false, spi: true },
  { cmd: Cmd.WRITE_ISPENDR, sgi: false, ppi: true, spi: true },
];
const SET_ACTIVE_FNS: readonly InjectDesc[] = [{ cmd: Cmd.WRITE_ISACTIVER, sgi: true, ppi: true, spi: true }];

/** struct kvm_inject_args. */
interface InjectArgs {
  readonly cmd: Cmd;
  readonly firstIntid: number;
  readonly num: number;
  readonly level: number;
  readonly expectFailure: boolean;
}

/** struct test_args plus what the guest and host share (irq_handled, irqnr_received, failures). */
interface Shared {
  readonly nrIrqs: number;
  readonly eoiSplit: boolean;
  readonly levelSensitive: boolean;
  readonly kvmMaxRoutes: number;
  irqHandled: number;
  /** Every IRQ the handler took over the whole run, and the GUEST_SYNCs the host served. */
  totalHandled: number;
  syncs: number;
  readonly received: Map<number, number>;
  call: InjectArgs | undefined;
  readonly failures: string[];
}

type Guest<T = void> = Generator<GuestOp, T, GuestResult>;

function check(s: Shared, cond: boolean, what: string): void {
  if (!cond) s.failures.push(what);
}

// ---- lib/arm64 gic.c / gic_v3.c helpers, as guest code -------------------------

const sgiBase = GICR_BASE_GPA + GICR_SGI_BASE;

/** GUEST_SYNC(&args): the host runs the command before the guest goes on. */
function* kvmInjectCall(s: Shared, cmd: Cmd, firstIntid: number, num: number, level: number, expectFailure: boolean): Guest {
  s.call = { cmd, firstIntid, num, level, expectFailure };
  yield op.write(UCALL_ADDR, 8, 1);
}

/** gic_set_priority(intid, prio). */
function* gicSetPriority(intid: number, prio: number): Guest {
  yield op.write(intid < MIN_SPI ? sgiBase + GICR_IPRIORITYR0 + intid : GICD_BASE_GPA + GICD_IPRIORITYR + intid, 1, prio);
}

/** gic_irq_enable(intid). */
function* gicIrqEnable(intid: number): Guest {
  if (intid < MIN_SPI) yield op.write(sgiBase + GICR_ISENABLER0, 4, (1 << intid) >>> 0);
  else yield op.write(GICD_BASE_GPA + GICD_ISENABLER + 4 * (intid >>> 5), 4, (1 << (intid & 31)) >>> 0);
}

/** gic_irq_set_config(intid, is_edge) for an SPI. */
function* gicIrqSetConfig(intid: number, edge: boolean): Guest {
  const reg = GICD_BASE_GPA + GICD_ICFGR + 4 * (intid >>> 4);
  const bit = (2 << (2 * (intid & 15))) >>> 0;
  const cur = (yield op.read(reg, 4)).value;
  yield op.write(reg, 4, (edge ? cur | bit : cur & ~bit) >>> 0);
}

/** gic_irq_get_active / gic_irq_get_pending: the ISACTIVER / ISPENDR bit. */
function* gicIrqBit(intid: number, dist: number, redist: number): Guest<boolean> {
  const reg = intid < MIN_SPI ? sgiBase + redist : GICD_BASE_GPA + dist + 4 * (intid >>> 5);
  return (((yield op.read(reg, 4)).value >>> (intid & 31)) & 1) === 1;
}
const gicIrqGetActive = (intid: number) => gicIrqBit(intid, GICD_ISACTIVER, GICR_ISACTIVER0);
const gicIrqGetPending = (intid: number) => gicIrqBit(intid, GICD_ISPENDR, GICR_ISPENDR0);

function* gicGetAndAckIrq(): Guest<number> {
  return (yield op.mrs(ICC_IAR1_EL1)).value & 0xffffff;
}

function* gicReadAp1r0(): Guest<number> {
  return (yield op.mrs(ICC_AP1Rn_EL1(0))).value >>> 0;
}

/** GUEST_ASSERT_IAR_EMPTY(). */
function* assertIarEmpty(s: Shared, where: string): Guest {
  const intid = yield* gicGetAndAckIrq();
  check(s, intid === IAR_SPURIOUS, `${where}: IAR gave ${intid}, not spurious`);
}

/** gic_init(GIC_V3, 1): Group 1 on at the distributor and the CPU interface. */
function* gicInit(): Guest {
  yield op.write(GICD_BASE_GPA + GICD_CTLR, 4, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_SS_G1);
  yield op.msr(ICC_IGRPEN1_EL1, 1);
}

// ---- vgic_irq.c guest code ------------------------------------------------------

function* guestSetIrqLine(s: Shared, intid: number, level: number): Guest {
  yield* kvmInjectCall(s, Cmd.SET_IRQ_LINE, intid, 1, level, false);
}

/** guest_irq_generic_handler(eoi_split, level_sensitive). */
function* guestIrqHandler(s: Shared): Guest {
  const intid = yield* gicGetAndAckIrq();
  if (intid === IAR_SPURIOUS) return;
  check(s, yield* gicIrqGetActive(intid), `handler: ${intid} not active after IAR`);
  if (!s.levelSensitive) check(s, !(yield* gicIrqGetPending(intid)), `handler: edge ${intid} still pending after IAR`);
  if (s.levelSensitive) yield* guestSetIrqLine(s, intid, 0);
  check(s, intid < 1020, `handler: INTID ${intid} beyond MAX_SPI`);
  s.received.set(intid, (s.received.get(intid) ?? 0) + 1);
  s.irqHandled++;
  s.totalHandled++;
  yield op.msr(ICC_EOIR1_EL1, intid);
  check(s, (yield* gicReadAp1r0()) === 0, `handler: AP1R0 not 0 after EOIR of ${intid}`);
  if (s.eoiSplit) yield op.msr(ICC_DIR_EL1, intid);
  check(s, !(yield* gicIrqGetActive(intid)), `handler: ${intid} still active`);
  check(s, !(yield* gicIrqGetPending(intid)), `handler: ${intid} pending again`);
}

function* resetPriorities(s: Shared): Guest {
  for (let i = 0; i < s.nrIrqs; i++) yield* gicSetPriority(i, IRQ_DEFAULT_PRIO_REG);
}

function* testInjectFail(s: Shared, intid: number, cmd: Cmd): Guest {
  s.irqHandled = 0;
  s.received.clear();
  yield* kvmInjectCall(s, cmd, intid, 1, -1, true);
  check(s, s.irqHandled === 0, `inject_fail ${intid} cmd ${cmd}: ${s.irqHandled} IRQs handled`);
  yield* assertIarEmpty(s, `inject_fail ${intid} cmd ${cmd}`);
}

function* guestInject(s: Shared, first: number, num: number, cmd: Cmd): Guest {
  s.irqHandled = 0;
  s.received.clear();
  for (let i = first; i < first + num; i++) yield* gicSetPriority(i, (i % (KVM_NUM_PRIOS - 1)) << 3);
  yield op.mask();
  yield* kvmInjectCall(s, cmd, first, num, -1, false);
  // wfi(); local_irq_enable(); isb(); local_irq_disable(); until every one is handled.
  for (let guard = 0; s.irqHandled < num && guard < 4 * num + 4; guard++) {
    yield op.wfi();
    yield op.unmask();
    yield op.mask();
  }
  yield op.unmask();
  check(s, s.irqHandled === num, `inject ${first}+${num} cmd ${cmd}: ${s.irqHandled} handled`);
  for (let i = first; i < first + num; i++) check(s, s.received.get(i) === 1, `inject cmd ${cmd}: INTID ${i} received ${s.received.get(i) ?? 0} times`);
  yield* assertIarEmpty(s, `inject ${first}+${num} cmd ${cmd}`);
  yield* resetPriorities(s);
}

function* guestRestoreActive(s: Shared, first: number, num: number, cmd: Cmd): Guest {
  for (let i = 0, prio = (num - 1) * 8; i < num; i++, prio -= 8) yield* gicSetPriority(first + i, prio);
  for (let i = 0; i < num; i++) {
    yield* kvmInjectCall(s, cmd, first + i, 1, 1, false); // KVM_ACTIVATE
    const ap1r = yield* gicReadAp1r0();
    yield op.msr(ICC_AP1Rn_EL1(0), (ap1r | (1 << i)) >>> 0);
  }
  for (let i = 0; i < num; i++) {
    const intid = num - i - 1 + first;
    yield op.msr(ICC_EOIR1_EL1, intid);
    if (s.eoiSplit) yield op.msr(ICC_DIR_EL1, intid);
  }
  for (let i = 0; i < num; i++) check(s, !(yield* gicIrqGetActive(first + i)), `restore_active: ${first + i} still active`);
  check(s, (yield* gicReadAp1r0()) === 0, `restore_active ${first}: AP1R0 not 0`);
  yield* assertIarEmpty(s, `restore_active ${first}`);
}

/** wait_for_and_activate_irq(): WFI and IAR until not spurious (interrupts masked). */
function* waitForAndActivateIrq(): Guest<number> {
  for (let guard = 0; guard < 64; guard++) {
    yield op.wfi();
    const intid = yield* gicGetAndAckIrq();
    if (intid !== IAR_SPURIOUS) return intid;
  }
  return IAR_SPURIOUS;
}

function* testInjectPreemption(s: Shared, first: number, num: number, exclude: number, cmd: Cmd): Guest {
  const excluded = (i: number) => ((exclude >>> i) & 1) === 1;
  for (let i = 0, prio = (num - 1) * KVM_PRIO_STEPS; i < num; i++, prio -= KVM_PRIO_STEPS) yield* gicSetPriority(first + i, prio);
  yield op.mask();
  for (let i = 0; i < num; i++) {
    if (excluded(i)) continue;
    const intid = first + i;
    yield* kvmInjectCall(s, cmd, intid, 1, -1, false);
    // Each successive IRQ preempts the previous one.
    const got = yield* waitForAndActivateIrq();
    check(s, got === intid, `preemption cmd ${cmd}: acknowledged ${got}, expected ${intid}`);
    if (s.levelSensitive) yield* guestSetIrqLine(s, intid, 0);
  }
  for (let i = 0; i < num; i++) {
    const intid = num - i - 1 + first;
    if (!excluded(intid - first)) yield op.msr(ICC_EOIR1_EL1, intid);
  }
  if (s.eoiSplit) for (let i = 0; i < num; i++) if (!excluded(i)) yield op.msr(ICC_DIR_EL1, first + i);
  yield op.unmask();
  for (let i = 0; i < num; i++) if (!excluded(i)) check(s, !(yield* gicIrqGetActive(first + i)), `preemption: ${first + i} still active`);
  check(s, (yield* gicReadAp1r0()) === 0, `preemption ${first} cmd ${cmd}: AP1R0 not 0`);
  yield* assertIarEmpty(s, `preemption ${first} cmd ${cmd}`);
  yield* resetPriorities(s);
}

function* testInjection(s: Shared, f: InjectDesc): Guest {
  if (f.sgi) {
    yield* guestInject(s, MIN_SGI, 1, f.cmd);
    yield* guestInject(s, 0, 16, f.cmd);
  }
  if (f.ppi) yield* guestInject(s, MIN_PPI, 1, f.cmd);
  if (f.spi) {
    yield* guestInject(s, MIN_SPI, 1, f.cmd);
    yield* guestInject(s, s.nrIrqs - 1, 1, f.cmd);
    yield* guestInject(s, MIN_SPI, s.nrIrqs - MIN_SPI, f.cmd);
  }
}

function* testInjectionFailure(s: Shared, f: InjectDesc): Guest {
  for (const bad of [s.nrIrqs, 1020, 1024, 1120, 5120, 0xffff_ffff]) yield* testInjectFail(s, bad, f.cmd);
}

function* testPreemption(s: Shared, f: InjectDesc): Guest {
  // Timer PPIs cannot be injected from userspace.
  const ppiExclude = (1 << (27 - MIN_PPI)) | (1 << (30 - MIN_PPI)) | (1 << (28 - MIN_PPI)) | (1 << (26 - MIN_PPI));
  if (f.sgi) yield* testInjectPreemption(s, MIN_SGI, 16, 0, f.cmd);
  if (f.ppi) yield* testInjectPreemption(s, MIN_PPI, 16, ppiExclude, f.cmd);
  if (f.spi) yield* testInjectPreemption(s, MIN_SPI, 31, 0, f.cmd);
}

function* testRestoreActive(s: Shared, f: InjectDesc): Guest {
  if (f.sgi) yield* guestRestoreActive(s, MIN_SGI, 16, f.cmd);
  if (f.ppi) yield* guestRestoreActive(s, MIN_PPI, 16, f.cmd);
  if (f.spi) yield* guestRestoreActive(s, MIN_SPI, 31, f.cmd);
}

function* guestCode(s: Shared): Guest {
  yield* gicInit();
  for (let i = MIN_SPI; i < s.nrIrqs; i++) yield* gicIrqSetConfig(i, !s.levelSensitive);
  for (let i = 0; i < s.nrIrqs; i++) yield* gicIrqEnable(i);
  const ctlr = (yield op.mrs(ICC_CTLR_EL1)).value;
  yield op.msr(ICC_CTLR_EL1, s.eoiSplit ? ctlr | ICC_CTLR_EL1_EOImode_drop : ctlr & ~ICC_CTLR_EL1_EOImode_drop);
  yield* resetPriorities(s);
  yield op.msr(ICC_PMR_EL1, CPU_PRIO_MASK);
  yield op.unmask();
  for (const f of s.levelSensitive ? INJECT_LEVEL_FNS : INJECT_EDGE_FNS) {
    yield* testInjection(s, f);
    yield* testPreemption(s, f);
    yield* testInjectionFailure(s, f);
  }
  for (const f of SET_ACTIVE_FNS) yield* testRestoreActive(s, f);
}

// ---- host side -------------------------------------------------------------------


/** _kvm_arm_irq_line(vm, intid, level): PPIs of vCPU 0, else SPIs. */
function kvmArmIrqLine(vm: Vm, intid: number, level: number): string | undefined {
  const type = intid >= MIN_PPI && intid < MIN_SPI ? KVM_ARM_IRQ_TYPE_PPI : KVM_ARM_IRQ_TYPE_SPI;
  const irq = ((type << KVM_ARM_IRQ_TYPE_SHIFT) | (intid & KVM_ARM_IRQ_NUM_MASK)) >>> 0;
  return errnoOf(() => vm.irqLine(irq, level));
}

function kvmIrqLineCheck(s: Shared, vm: Vm, intid: number, level: number, expectFailure: boolean): void {
  if (!expectFailure) {
    const e = kvmArmIrqLine(vm, intid, level);
    check(s, e === undefined, `KVM_IRQ_LINE ${intid}=${level}: ${e}`);
    return;
  }
  if (intid > KVM_ARM_IRQ_NUM_MASK) return; // the interface cannot express it
  check(s, kvmArmIrqLine(vm, intid, level) === "EINVAL", `bad INTID ${intid} did not make KVM_IRQ_LINE fail EINVAL`);
}

/** kvm_irq_set_level_info_check: GRP_LEVEL_INFO bit set through get + set. */
function kvmIrqSetLevelInfoCheck(s: Shared, gic: Device, intid: number, expectFailure: boolean): void {
  const attr = BigInt(32 * Math.floor(intid / 32));
  const e = errnoOf(() => {
    const v = Number(gic.getDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr }));
    gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_LEVEL_INFO, attr, value: (v | (1 << intid % 32)) >>> 0 });
  });
  // The kernel silently drops bad SPIs; it only refuses an INTID beyond VGIC_MAX_RESERVED.
  const want = expectFailure && intid > VGIC_MAX_RESERVED ? "EINVAL" : undefined;
  check(s, e === want, `GRP_LEVEL_INFO ${intid}: ${e ?? "ok"}, expected ${want ?? "ok"}`);
}

/** kvm_routing_and_irqfd_check: irqchip routes GSI = pin = INTID − 32, one irqfd each, signalled. */
function kvmRoutingAndIrqfdCheck(s: Shared, vm: Vm, intid: number, num: number, expectFailure: boolean): void {
  if (intid < MIN_SPI) return;
  const routes: IrqchipRoute[] = [];
  for (let i = intid; i < intid + num; i++) routes.push({ gsi: (i - MIN_SPI) >>> 0, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: (i - MIN_SPI) >>> 0 });
  const e = errnoOf(() => vm.setGsiRouting(routes));
  const bad = intid + num - 1 - MIN_SPI >= KVM_IRQCHIP_NUM_PINS;
  check(s, e === (expectFailure && bad ? "EINVAL" : undefined), `KVM_SET_GSI_ROUTING for ${intid}+${num}: ${e ?? "ok"}`);
  // Injected anyway when failure is expected: nothing may reach the guest.
  for (let i = intid; i < intid + num; i++) {
    const fd = new EventFd();
    const a = errnoOf(() => vm.irqfd({ fd, gsi: (i - MIN_SPI) >>> 0 }));
    if (a === undefined) fd.signal();
    else check(s, expectFailure, `KVM_IRQFD gsi ${i - MIN_SPI}: ${a}`);
  }
}

/** vgic_poke_irq(gic_fd, intid, vcpu 0, reg_off): read, set the bit, write back. */
function vgicPokeIrq(s: Shared, gic: Device, intid: number, regOff: number): void {
  const privateIrq = intid < MIN_SPI;
  const attr = BigInt(regOff + 4 * Math.floor(intid / 32) + (privateIrq ? 0x1_0000 : 0));
  const group = privateIrq ? KVM_DEV_ARM_VGIC_GRP_REDIST_REGS : KVM_DEV_ARM_VGIC_GRP_DIST_REGS;
  const e = errnoOf(() => {
    const v = Number(gic.getDeviceAttr({ group, attr }));
    gic.setDeviceAttr({ group, attr, value: (v | (1 << intid % 32)) >>> 0 });
  });
  check(s, e === undefined, `poke ${intid} at 0x${regOff.toString(16)}: ${e}`);
}

/** run_guest_cmd. */
function runGuestCmd(s: Shared, vm: Vm, gic: Device, a: InjectArgs): void {
  const { firstIntid: first, num, level, expectFailure } = a;
  const each = (fn: (i: number) => void) => {
    for (let i = 0; i < num; i++) fn((first + i) >>> 0);
  };
  switch (a.cmd) {
    case Cmd.EDGE_IRQ_LINE:
      each((i) => kvmIrqLineCheck(s, vm, i, 1, expectFailure));
      each((i) => kvmIrqLineCheck(s, vm, i, 0, expectFailure));
      break;
    case Cmd.SET_IRQ_LINE:
      each((i) => kvmIrqLineCheck(s, vm, i, level, expectFailure));
      break;
    case Cmd.SET_IRQ_LINE_HIGH:
      each((i) => kvmIrqLineCheck(s, vm, i, 1, expectFailure));
      break;
    case Cmd.SET_LEVEL_INFO_HIGH:
      each((i) => kvmIrqSetLevelInfoCheck(s, gic, i, expectFailure));
      break;
    case Cmd.INJECT_IRQFD:
      kvmRoutingAndIrqfdCheck(s, vm, first, num, expectFailure);
      break;
    case Cmd.WRITE_ISPENDR:
      if (!expectFailure) each((i) => vgicPokeIrq(s, gic, i, GICD_ISPENDR));
      break;
    case Cmd.WRITE_ISACTIVER:
      each((i) => vgicPokeIrq(s, gic, i, GICD_ISACTIVER));
      break;
  }
}

/** test_vgic(nr_irqs, level_sensitive, eoi_split). */
function testVgic(nrIrqs: number, levelSensitive: boolean, eoiSplit: boolean): Shared {
  const kvm = new Kvm({ arch: "arm64" });
  const vm = kvm.createVm();
  const s: Shared = {
    nrIrqs,
    eoiSplit,
    levelSensitive,
    kvmMaxRoutes: vm.checkExtension(KVM_CAP_IRQ_ROUTING),
    irqHandled: 0,
    totalHandled: 0,
    syncs: 0,
    received: new Map(),
    call: undefined,
    failures: [],
  };
  const vcpu = vm.createVcpu(0);
  vcpu.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
  // vgic_v3_setup(vm, 1, nr_irqs)
  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: nrIrqs });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: GICD_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: GICR_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const state = { done: false };
  vcpu.loadGuest({
    main: function* () {
      yield* guestCode(s);
      state.done = true;
    },
    vector: function* () {
      yield* guestIrqHandler(s);
    },
  });
  for (let steps = 0; !state.done && steps < 100_000; steps++) {
    const exit = vcpu.run();
    if (exit.reason !== KVM_EXIT_MMIO || exit.physAddr !== UCALL_ADDR) continue;
    const call = s.call;
    s.call = undefined;
    if (call === undefined) continue;
    s.syncs++;
    runGuestCmd(s, vm, gic, call);
  }
  check(s, state.done, "the guest did not reach GUEST_DONE");
  return s;
}

// ---- test_vgic_two_cpus ------------------------------------------------------------

/**
 * args->shared_data: the two vCPUs poll it with READ_ONCE / WRITE_ONCE. Here
 * it sits at an address no device claims, so each access is a KVM_EXIT_MMIO
 * the host answers from one variable — and a point where the host switches
 * to the other vCPU, as two threads would interleave.
 */
const SHARED_ADDR = 0x2000_1000;

function* readShared(): Guest<number> {
  return (yield op.read(SHARED_ADDR, 4)).value >>> 0;
}

function* writeShared(v: number): Guest {
  yield op.write(SHARED_ADDR, 4, v);
}

/** do { dsb(ishld); } while (!done(shared_data)), bounded; false if it never ended. */
function* spinOnShared(done: (v: number) => boolean): Guest<boolean> {
  for (let i = 0; i < 1000; i++) if (done(yield* readShared())) return true;
  return false;
}

/** The SGI_base frame of vCPU `cpu`'s redistributor (128 KiB each). */
const sgiBaseOf = (cpu: number) => GICR_BASE_GPA + cpu * 0x2_0000 + GICR_SGI_BASE;

/** gic_init(GIC_V3, 2) on vCPU `cpuid`, gic_set_eoi_split(split), the priority mask; interrupts stay masked. */
function* twoCpuInit(split: boolean): Guest {
  yield op.mask();
  yield* gicInit();
  const ctlr = (yield op.mrs(ICC_CTLR_EL1)).value;
  yield op.msr(ICC_CTLR_EL1, split ? ctlr | ICC_CTLR_EL1_EOImode_drop : ctlr & ~ICC_CTLR_EL1_EOImode_drop);
  yield op.msr(ICC_PMR_EL1, CPU_PRIO_MASK);
}

/** guest_code_asym_dir: vCPU 0 takes SPI 32 and drops its priority; vCPU 1 deactivates it with DIR. */
function* guestCodeAsymDir(s: Shared, cpuid: number): Guest {
  yield* twoCpuInit(true);
  if (cpuid === 0) {
    yield* gicSetPriority(MIN_PPI, KVM_NUM_PRIOS - 2); // upstream passes IRQ_DEFAULT_PRIO, not the register value
    yield* gicIrqEnable(MIN_SPI);
    yield op.write(GICD_BASE_GPA + GICD_ISPENDR + 4, 4, 1); // gic_irq_set_pending(MIN_SPI)
    const intid = yield* waitForAndActivateIrq();
    check(s, intid === MIN_SPI, `asym_dir: vCPU 0 acknowledged ${intid}`);
    yield op.msr(ICC_EOIR1_EL1, intid);
    check(s, yield* gicIrqGetActive(MIN_SPI), "asym_dir: SPI 32 not active after the priority drop");
    yield* writeShared(MIN_SPI);
    check(s, yield* spinOnShared((v) => v !== MIN_SPI), "asym_dir: vCPU 1 never answered");
    check(s, !(yield* gicIrqGetActive(MIN_SPI)), "asym_dir: SPI 32 still active after vCPU 1's DIR");
  } else {
    check(s, yield* spinOnShared((v) => v === MIN_SPI), "asym_dir: vCPU 0 never signalled");
    yield op.msr(ICC_DIR_EL1, MIN_SPI);
    yield* writeShared(0);
  }
}

/** guest_code_group_en: SGI 0 in group 0 stays pending until ICC_IGRPEN0_EL1 opens its gate. */
function* guestCodeGroupEn(s: Shared, cpuid: number): Guest {
  yield* twoCpuInit(false);
  const sgi = sgiBaseOf(cpuid);
  const igroupr0 = (yield op.read(sgi + GICR_IGROUPR0, 4)).value;
  yield op.write(sgi + GICR_IGROUPR0, 4, (igroupr0 & ~1) >>> 0); // gic_irq_set_group(0, 0)
  for (let intid = 0; intid < MIN_PPI; intid++) {
    yield op.write(sgi + GICR_IPRIORITYR0 + intid, 1, (intid + 1) * 8);
    yield op.write(sgi + GICR_ISENABLER0, 4, 1 << intid);
    yield op.write(sgi + GICR_ISPENDR0, 4, 1 << intid);
  }
  for (let i = 1; i < MIN_PPI; i++) {
    const intid = yield* waitForAndActivateIrq();
    check(s, intid < MIN_PPI, `group_en vCPU ${cpuid}: acknowledged ${intid}`);
    yield op.msr(ICC_EOIR1_EL1, intid);
  }
  const bit = (off: number) => op.read(sgi + off, 4);
  check(s, ((yield bit(GICR_ISPENDR0)).value & 1) === 1, `group_en vCPU ${cpuid}: SGI 0 not pending`);
  check(s, ((yield bit(GICR_ISACTIVER0)).value & 1) === 0, `group_en vCPU ${cpuid}: SGI 0 active`);
  yield* assertIarEmpty(s, `group_en vCPU ${cpuid}`);
  check(s, ((yield op.mrs(ICC_IAR0_EL1)).value & 0xffffff) === IAR_SPURIOUS, `group_en vCPU ${cpuid}: IAR0 not spurious with Group 0 off`);
  yield op.msr(ICC_IGRPEN0_EL1, 1);
  let intid = IAR_SPURIOUS;
  for (let guard = 0; intid === IAR_SPURIOUS && guard < 64; guard++) intid = (yield op.mrs(ICC_IAR0_EL1)).value & 0xffffff;
  check(s, intid === 0, `group_en vCPU ${cpuid}: IAR0 gave ${intid}`);
}

/** test_vgic_two_cpus(gcode): two vCPUs, vgic_v3_setup(vm, 2, 64), run in turn at every exit. */
function testVgicTwoCpus(gcode: (s: Shared, cpuid: number) => Guest): Shared {
  const kvm = new Kvm({ arch: "arm64" });
  const vm = kvm.createVm();
  const s: Shared = { nrIrqs: 64, eoiSplit: false, levelSensitive: false, kvmMaxRoutes: 0, irqHandled: 0, totalHandled: 0, syncs: 0, received: new Map(), call: undefined, failures: [] };
  const vcpus = [0, 1].map((id) => {
    const v = vm.createVcpu(id);
    v.armVcpuInit({ target: KVM_ARM_TARGET_GENERIC_V8 });
    return v;
  });
  const gic = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_NR_IRQS, attr: 0, value: 64 });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_DIST, value: GICD_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_V3_ADDR_TYPE_REDIST, value: GICR_BASE_GPA });
  gic.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_CTRL, attr: KVM_DEV_ARM_VGIC_CTRL_INIT });
  const done = [false, false];
  let shared = 0;
  vcpus.forEach((v, cpuid) => {
    v.loadGuest({
      main: function* () {
        yield* gcode(s, cpuid);
        done[cpuid] = true;
      },
    });
  });
  for (let steps = 0; !(done[0] && done[1]) && steps < 10_000; steps++) {
    for (const [cpuid, v] of vcpus.entries()) {
      if (done[cpuid]) continue;
      const exit = v.run();
      if (exit.reason !== KVM_EXIT_MMIO || exit.physAddr !== SHARED_ADDR) continue;
      if (exit.isWrite) shared = exit.value;
      else exit.value = shared;
    }
  }
  check(s, done[0] === true && done[1] === true, "a vCPU did not reach GUEST_DONE");
  return s;
}

describe("vgic_irq (tools/testing/selftests/kvm/arm64/vgic_irq.c)", () => {
  // IRQs the handler takes (test_injection): edge — IRQ_LINE and irqfd SPIs 1 + 1 + 32 each, ISPENDR
  // also SGIs 1 + 16; level — PPI 1 + SPIs 34 for IRQ_LINE, LEVEL_INFO and ISPENDR, irqfd SPIs 34.
  test.each([
    [false, false, 119],
    [false, true, 119],
    [true, false, 139],
    [true, true, 139],
  ])("test_vgic(64, level_sensitive=%s, eoi_split=%s)", (level, split, handled) => {
    const s = testVgic(64, level, split);
    expect(s.failures).toEqual([]);
    expect(s.totalHandled).toBe(handled);
    expect(s.syncs).toBeGreaterThan(100);
    expect(s.kvmMaxRoutes).toBe(4096);
  });

  test("test_vgic_two_cpus(guest_code_asym_dir): a DIR on one vCPU deactivates the SPI the other acknowledged", () => {
    expect(testVgicTwoCpus(guestCodeAsymDir).failures).toEqual([]);
  });

  test("test_vgic_two_cpus(guest_code_group_en): a group-0 SGI waits for ICC_IGRPEN0_EL1", () => {
    expect(testVgicTwoCpus(guestCodeGroupEn).failures).toEqual([]);
  });
});
