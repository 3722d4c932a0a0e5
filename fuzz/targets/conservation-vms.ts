/**
 * The VMs of the conservation target and what the checker needs of them.
 * Each VM reports what its guest acknowledged, how to raise each of its
 * interrupts by each path, and how to ask the model whether an interrupt is
 * pending (to tell a coalesced edge from a new one). Every raise is reported
 * to the checker's `account` callback right before it happens; a VM raises
 * nothing on a path its guest has not set up yet (an APLIC source the guest
 * has not made active, an ITS mapping that does not exist yet), as a device
 * stays quiet until its driver has programmed it.
 *
 * The arm64 VM is in conservation-arm-vm.ts. The riscv64 VM here has the
 * in-kernel AIA (QEMU kvm_riscv_aia_create order, auto mode: VS-file when
 * free, else SW-file) with an APLIC, and runs a guest that enables identities
 * in its IMSIC file and claims them through stopei; vCPU 0 first programs
 * the APLIC (MSI delivery mode, the only one KVM's APLIC has).
 */

import {
  APLIC_DOMAINCFG,
  APLIC_DOMAINCFG_DM,
  APLIC_DOMAINCFG_IE,
  APLIC_SETIENUM,
  APLIC_SM_EDGE_RISE,
  APLIC_SOURCECFG_BASE,
  APLIC_TARGET_BASE,
  APLIC_TARGET_HART_SHIFT,
} from "@irqlab/aia";
import {
  EventFd,
  KVM_DEV_RISCV_AIA_ADDR_APLIC,
  KVM_DEV_RISCV_AIA_ADDR_IMSIC,
  KVM_DEV_RISCV_AIA_CONFIG_HART_BITS,
  KVM_DEV_RISCV_AIA_CONFIG_MODE,
  KVM_DEV_RISCV_AIA_CONFIG_SRCS,
  KVM_DEV_RISCV_AIA_CTRL_INIT,
  KVM_DEV_RISCV_AIA_GRP_ADDR,
  KVM_DEV_RISCV_AIA_GRP_CONFIG,
  KVM_DEV_RISCV_AIA_GRP_CTRL,
  KVM_DEV_RISCV_AIA_MODE_AUTO,
  KVM_DEV_TYPE_RISCV_AIA,
  KVM_IRQ_ROUTING_MSI,
  KVM_MP_STATE_RUNNABLE,
  type GuestImage,
  type Kvm,
  type RiscvAiaDevice,
  type RoutingEntry,
  type Vcpu,
  type Vm,
} from "@irqlab/kvm";
import { op } from "@irqlab/sim";
import { claimingGuest } from "../../packages/kvm/test/aia-test-kit.js";

/** QEMU virt: VIRT_IMSIC_S, VIRT_APLIC_S. */
const IMSIC = 0x2800_0000;
const APLIC = 0x0d00_0000;

/** How an interrupt is raised. */
export type Injection =
  | "line" // KVM_IRQ_LINE pulse (arm64 SPI)
  | "irqfd" // irqfd on the default routing (arm64) or on an MSI route (riscv64)
  | "route" // irqfd on an explicit irqchip route
  | "msi" // KVM_SIGNAL_MSI
  | "msi-irqfd" // irqfd on an MSI route through the vITS
  | "its-int" // the guest's INT command on the vITS command queue
  | "aplic-line"; // KVM_IRQ_LINE on an in-kernel APLIC source (MSI mode) → IMSIC

/** One interrupt of a VM and the paths that raise it. */
export interface ConservedSource {
  readonly id: number;
  readonly injections: readonly Injection[];
}

/** Told of every raise of `id` right before it happens. */
export type Account = (id: number) => void;

/** One VM under test. */
export interface ConservedVm {
  readonly vm: Vm;
  readonly vcpus: Vcpu[];
  /** The interrupts the guest enables and acknowledges, with their paths. */
  readonly sources: readonly ConservedSource[];
  /** What the guest acknowledged, in order. */
  readonly taken: number[];
  /**
   * Raises `id` by `how` (reporting it to `account` first), asks the guest to
   * (its-int: the guest reports it when it issues the command), or does
   * nothing while the guest has not set the path up.
   */
  raise(id: number, how: Injection): void;
  /** Whether `id` is pending (not yet acknowledged) in the model. */
  pending(id: number): boolean;
  /** Raises asked of the guest and not issued yet. */
  backlog(): number;
  /** Raises that happened, per path. */
  readonly raised: Map<Injection, number>;
}

/** Counts one raise by `how` in `raised`. */
export function countRaise(raised: Map<Injection, number>, how: Injection): void {
  raised.set(how, (raised.get(how) ?? 0) + 1);
}

/** MSI identities 1..8 (KVM_SIGNAL_MSI, irqfd on MSI routes); APLIC sources 1..4 → identities 9..12. */
const MSI_IDS = [1, 2, 3, 4, 5, 6, 7, 8];
const APLIC_SOURCES = [1, 2, 3, 4];
const eiidOf = (source: number): number => 8 + source;

/**
 * vCPU 0's APLIC setup: each source edge-triggered (rising), its target (hart
 * index, EIID) and its enable, then domaincfg.IE (AdvPLIC.adoc §4.5.1, §4.5.2,
 * §4.5.16); DM reads 1 in KVM's APLIC whatever is written.
 */
function aplicSetup(hartOf: (id: number) => number): GuestImage["main"] {
  return function* () {
    for (const s of APLIC_SOURCES) {
      yield op.write(APLIC + APLIC_SOURCECFG_BASE + 4 * (s - 1), 4, APLIC_SM_EDGE_RISE);
      yield op.write(APLIC + APLIC_TARGET_BASE + 4 * (s - 1), 4, ((hartOf(eiidOf(s)) << APLIC_TARGET_HART_SHIFT) | eiidOf(s)) >>> 0);
      yield op.write(APLIC + APLIC_SETIENUM, 4, s);
    }
    yield op.write(APLIC + APLIC_DOMAINCFG, 4, APLIC_DOMAINCFG_IE | APLIC_DOMAINCFG_DM);
  };
}

/**
 * A riscv64 VM with the in-kernel AIA and an APLIC of 8 sources; identity
 * `id` goes to vCPU id % n, by MSI (1..8) or through the APLIC (9..12).
 */
export function riscvVm(kvm: Kvm, vcpuCount: number, account: Account): ConservedVm {
  const vm = kvm.createVm();
  const vcpus = Array.from({ length: vcpuCount }, (_, i) => vm.createVcpu(i));
  const dev = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
  const set = (group: number, attr: number, value: number): void => {
    dev.setDeviceAttr({ group, attr, value });
  };
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_MODE, KVM_DEV_RISCV_AIA_MODE_AUTO);
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_SRCS, 8);
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, 1);
  set(KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_APLIC, APLIC);
  for (let i = 0; i < vcpuCount; i++) set(KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_IMSIC(i), IMSIC + i * 0x1000);
  set(KVM_DEV_RISCV_AIA_GRP_CTRL, KVM_DEV_RISCV_AIA_CTRL_INIT, 0);
  const aia = vm.irqchip as RiscvAiaDevice;
  const domain = aia.aplic!.aplic.root;
  const hartOf = (id: number): number => id % vcpuCount;
  const ids = [...MSI_IDS, ...APLIC_SOURCES.map(eiidOf)];
  const taken: number[] = [];
  const routes: RoutingEntry[] = MSI_IDS.map((id): RoutingEntry => ({ gsi: id, type: KVM_IRQ_ROUTING_MSI, addressLo: IMSIC + hartOf(id) * 0x1000, addressHi: 0, data: id }));
  vm.setGsiRouting(routes);
  const fds = MSI_IDS.map((id) => {
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: id });
    return fd;
  });
  const setupAplic = aplicSetup(hartOf);
  for (const v of vcpus) {
    const claiming = claimingGuest(ids.filter((id) => hartOf(id) === v.vcpuId), taken);
    const boot = v.vcpuId === 0;
    v.loadGuest({
      ...claiming,
      main: function* (regs) {
        if (boot) yield* setupAplic(regs);
        yield* claiming.main(regs);
      },
    });
    // Secondary harts start stopped; the boot hart would start them with SBI HSM hart_start.
    v.setMpState(KVM_MP_STATE_RUNNABLE);
  }
  const sourceOf = (id: number): number => id - 8;
  const aplicReady = (s: number): boolean => domain.interruptEnable && domain.sources.active(s) && domain.sources.enabled.get(s);
  const filePending = (id: number): boolean => aia.chip(hartOf(id))?.currentFile?.isPending(id) ?? false;
  const raised = new Map<Injection, number>();
  return {
    vm,
    vcpus,
    sources: [
      ...MSI_IDS.map((id): ConservedSource => ({ id, injections: ["msi", "irqfd"] })),
      ...APLIC_SOURCES.map((s): ConservedSource => ({ id: eiidOf(s), injections: ["aplic-line"] })),
    ],
    taken,
    raise(id, how) {
      if (how === "aplic-line") {
        const s = sourceOf(id);
        if (!aplicReady(s)) return;
        account(id);
        countRaise(raised, how);
        // An edge is a pulse of the wire: the APLIC forwards it as an MSI to the target hart's file (AdvPLIC.adoc §4.9).
        vm.irqLine(s, 1);
        vm.irqLine(s, 0);
        return;
      }
      account(id);
      countRaise(raised, how);
      if (how === "msi") vm.signalMsi({ addressLo: IMSIC + hartOf(id) * 0x1000, addressHi: 0, data: id, flags: 0, devid: 0 });
      else fds[id - 1]!.signal();
    },
    // An APLIC source forwards at once in MSI mode; its pending bit counts until it has (IE off, masked).
    pending: (id) => filePending(id) || (id > 8 && domain.sources.pending.get(sourceOf(id))),
    backlog: () => 0,
    raised,
  };
}
