/**
 * The host side of KVM RISC-V AIA: every hart's IMSIC with its GEILEN guest
 * interrupt files (VS-files), the per-CPU HGEI allocator (Linux's
 * aia_hgei_control), the owner of each line, the SGEI path that tells an
 * owner its file asserted hgeip, each hart's HGEIE (which lines a blocked
 * vCPU waits on; SGEI kicks their owners), and hart offlining (kvm_riscv_aia_disable).
 * Linux arch/riscv/kvm/aia.c (kvm_riscv_aia_init, kvm_riscv_aia_alloc_hgei,
 * kvm_riscv_aia_free_hgei, hgei_interrupt, kvm_riscv_aia_disable, aia_hgei_init);
 * aia_imsic.c kvm_riscv_vcpu_aia_imsic_update, kvm_riscv_vcpu_aia_imsic_put.
 *
 * One RiscvAiaHost serves every VM of a Kvm: the VS-files are a host
 * resource that VMs compete for, which is seed 000's subject. The
 * "linux-6.18"/"linux-6.19" profile picks the KVM_EXIT_FAIL_ENTRY reason, and
 * `kernelMigrate` selects the remedy proposed in that thread (KVM migrates a
 * vCPU to a hart with a free file instead of failing; see vsfile-placement.ts).
 */

import { ImsicHart, LINUX_KVM_PROFILE, type ImsicHartLines } from "@irqlab/aia";
import { ConfigError, type Tracer } from "@irqlab/sim";
import { KVM_EXIT_FAIL_ENTRY_NO_VSFILE } from "../uapi/exit-reasons.js";
import { HGEI_SLOTS, HgeiAllocator } from "../vsfile/hgei-allocator.js";
import { RISCV_FAIL_ENTRY_REASON_CSR_HSTATUS, type RiscvAiaKernelProfile } from "./aia-uapi.js";

/** What the host needs of a vCPU that can own a VS-file. */
export interface VsFileOwner {
  /** VM name, for failure records. */
  readonly vmName: string;
  /** VM index on the Kvm. */
  readonly vmIndex: number;
  /** vCPU id. */
  readonly vcpuId: number;
  /** The owned file's hgeip line changed. */
  vsFileLine(asserted: boolean): void;
  /** kvm_vcpu_kick() (hgei_interrupt, kvm_riscv_aia_disable). */
  kick(): void;
  /** kvm_riscv_vcpu_aia_imsic_release(): move the VS-file's state into the SW-file, free the line. */
  releaseVsFile(): void;
  /** Host CPU of the owned VS-file, or -1. */
  readonly vsFileCpu: number;
  /** Whether entry needs a VS-file (HWACCEL mode with IMSIC state). */
  readonly needsVsFile: boolean;
}

/** A refused entry: which VM's vCPU could not get a VS-file, where and when. */
export interface VsFileFailure {
  readonly vm: string;
  readonly vmIndex: number;
  readonly vcpuId: number;
  readonly cpu: number;
  readonly time: number;
}

/** Options of a {@link RiscvAiaHost}. */
export interface RiscvAiaHostOptions {
  /** Number of harts (must equal the Kvm host's CPU count). */
  readonly harts: number;
  /** Guest interrupt files per hart, nr_hgei (GEILEN), 0..63. 0 = AIA without VS-files (EMUL only). */
  readonly geilen: number;
  /** Identities of each guest file, the host's nr_guest_ids (default 255, QEMU virt's IMSIC). */
  readonly guestIds?: number;
  /** Fail-entry reason profile (default "linux-6.19"). */
  readonly profile?: RiscvAiaKernelProfile;
  /** Tracer for host events and guest errors. */
  readonly tracer?: Tracer;
}

/** VS-files of one host and who owns them. */
export class RiscvAiaHost {
  /** The harts' IMSICs (S file plus GEILEN guest files each). */
  readonly harts: readonly ImsicHart[];
  /** The per-CPU line allocator, to read: lines are taken and given back through {@link alloc} and {@link free}. */
  readonly allocator: HgeiAllocator;
  /** nr_guest_ids of the host's guest files. */
  readonly guestIds: number;
  /** Kernel profile. */
  readonly profile: RiscvAiaKernelProfile;
  /** KVM_EXIT_FAIL_ENTRY reason for "no VS-file" under the profile. */
  readonly failReason: number;
  /** Every refused entry, in order. */
  readonly failures: VsFileFailure[] = [];
  /**
   * Instrumentation point between "remap the guest page to the new file" and
   * "copy the old state" of a VS-file move (tests write an MSI here).
   */
  moveHook: ((owner: VsFileOwner, cpu: number, hgei: number) => void) | undefined;
  /**
   * Instrumentation point: line `hgei` on `cpu` was taken by `owner`, or freed
   * (`owner` undefined). Scenarios measure VS-file occupancy over time with it.
   */
  lineHook: ((cpu: number, hgei: number, owner: VsFileOwner | undefined) => void) | undefined;
  /**
   * @internal MSIs that reached an interrupt file of the host's vCPUs so far
   * (KVM_SIGNAL_MSI, irqfd, the APLIC's), wrapping at 2^31: a vCPU's chip
   * compares it with the count at its own last MSI to tell whether its state
   * has likely left the cache since.
   */
  msis = 0;
  readonly #owners: (VsFileOwner | undefined)[] = [];
  // Each line's owner by cpu * HGEI_SLOTS + line, as Linux's per-CPU aia_hgei_control.owners[] holds the vCPU
  // itself: a line's change reaches its owner in one load rather than through the allocator's owner id
  // and then the list above (two cache misses each, at thousands of vCPUs). Kept with the allocator's
  // own table by alloc() and free(), through which lines are taken and given back.
  readonly #lineOwners: (VsFileOwner | undefined)[];
  readonly #tracer: Tracer | undefined;
  readonly #online: boolean[];

  constructor(o: RiscvAiaHostOptions) {
    if (!Number.isInteger(o.harts) || o.harts < 1) throw new ConfigError(`RISC-V AIA host: hart count ${o.harts} is not a positive integer`);
    this.allocator = new HgeiAllocator(o.harts, o.geilen);
    this.#lineOwners = new Array<VsFileOwner | undefined>(o.harts * HGEI_SLOTS).fill(undefined);
    this.guestIds = o.guestIds ?? 255;
    const profile: string = o.profile ?? "linux-6.19";
    if (profile !== "linux-6.18" && profile !== "linux-6.19") throw new ConfigError(`RISC-V AIA host: profile '${profile}' is not linux-6.18 or linux-6.19`);
    this.profile = profile;
    this.failReason = this.profile === "linux-6.18" ? RISCV_FAIL_ENTRY_REASON_CSR_HSTATUS : KVM_EXIT_FAIL_ENTRY_NO_VSFILE;
    this.#online = new Array<boolean>(o.harts).fill(true);
    this.#tracer = o.tracer;
    const harts: ImsicHart[] = [];
    for (let h = 0; h < o.harts; h++) {
      harts.push(
        new ImsicHart({
          hartIndex: h,
          mIds: 255,
          sIds: this.guestIds,
          guestIds: this.guestIds,
          geilen: o.geilen,
          profile: LINUX_KVM_PROFILE,
          ...(o.tracer ? { tracer: o.tracer } : {}),
          lines: new HartLines(this, h),
        }),
      );
    }
    this.harts = harts;
  }

  /** nr_hgei: guest files per hart. */
  get nrHgei(): number {
    return this.allocator.nrHgei;
  }

  /** kvm_riscv_aia_max_ids: nr_guest_ids + 1 with VS-files, else 2048. */
  get maxIds(): number {
    return this.nrHgei > 0 ? this.guestIds + 1 : 2048;
  }

  /** Number of host CPUs. */
  get cpuCount(): number {
    return this.harts.length;
  }

  /** @internal Hart `cpu`'s guest file `hgei` raised or lowered its hgeip line: its owner hears it. */
  hgeipChanged(cpu: number, hgei: number, asserted: boolean): void {
    this.#lineOwners[cpu * HGEI_SLOTS + hgei]?.vsFileLine(asserted);
  }

  /** @internal Registers a possible owner; returns its owner id. */
  register(owner: VsFileOwner): number {
    this.#owners.push(owner);
    return this.#owners.length - 1;
  }

  /** The AIA vCPU (vmIndex, vcpuId), if registered. */
  ownerFor(vmIndex: number, vcpuId: number): VsFileOwner | undefined {
    return this.#owners.find((o) => o?.vmIndex === vmIndex && o.vcpuId === vcpuId);
  }

  /**
   * The owner of line `hgei` on `cpu`, if any.
   * @throws ConfigError if `cpu` is not one of the host's
   */
  ownerOf(cpu: number, hgei: number): VsFileOwner | undefined {
    return this.allocator.ownerOf(cpu, hgei) >= 0 ? this.#lineOwners[cpu * HGEI_SLOTS + hgei] : undefined;
  }

  /** kvm_riscv_aia_alloc_hgei(): lowest free line on `cpu`, or a negative errno (-ENOENT none free, -ENODEV offline). */
  alloc(cpu: number, ownerId: number): number {
    if (!this.#online[cpu]) return -19;
    const hgei = this.allocator.alloc(cpu, ownerId);
    if (hgei > 0) {
      const owner = this.#owners[ownerId];
      this.#lineOwners[cpu * HGEI_SLOTS + hgei] = owner;
      this.lineHook?.(cpu, hgei, owner);
    }
    if (hgei > 0 && this.#tracer?.enabled) this.#sampleInUse(cpu);
    return hgei;
  }

  /** kvm_riscv_aia_free_hgei(). */
  free(cpu: number, hgei: number): void {
    // Like the allocator, a line out of range or already free is left as it is.
    const owned = this.allocator.ownerOf(cpu, hgei) >= 0;
    this.allocator.free(cpu, hgei);
    if (owned) {
      this.#lineOwners[cpu * HGEI_SLOTS + hgei] = undefined;
      this.lineHook?.(cpu, hgei, undefined);
    }
    if (this.#tracer?.enabled) this.#sampleInUse(cpu);
  }

  /** Whether `cpu` takes VS-file allocations. */
  isOnline(cpu: number): boolean {
    return this.#online[cpu] === true;
  }

  /** Free lines on `cpu` (0 when offline). */
  freeOn(cpu: number): number {
    return this.#online[cpu] ? this.allocator.freeOn(cpu) : 0;
  }

  /** @internal Records a refused entry. */
  recordFailure(owner: VsFileOwner, cpu: number, time: number): void {
    this.failures.push({ vm: owner.vmName, vmIndex: owner.vmIndex, vcpuId: owner.vcpuId, cpu, time });
  }

  /**
   * A hart goes offline (kvm_riscv_aia_disable on CPU hotplug) or comes back.
   * Going offline releases every VS-file on it into its owner's SW-file
   * (kvm_riscv_vcpu_aia_imsic_release), then kicks each owner whose HGEIE bit
   * is set there, clearing it: a vCPU blocked in WFI waited for that line and
   * must re-check, and can run on another hart ("Wakeup VCPU if it was blocked
   * so that it can run on other HARTs"). Its lines are then unavailable until it is back.
   */
  setHartOnline(cpu: number, online: boolean): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.harts.length) throw new ConfigError(`RISC-V AIA host: hart ${cpu} is not in 0..${this.harts.length - 1}`);
    if (online) {
      this.#online[cpu] = true;
      return;
    }
    for (let g = 1; g <= this.nrHgei; g++) {
      const owner = this.ownerOf(cpu, g);
      if (owner === undefined) continue;
      owner.releaseVsFile();
      if (this.hgeie(cpu, g)) {
        this.wakeOnHgei(cpu, g, false);
        owner.kick();
      }
    }
    this.#online[cpu] = false;
  }

  /** Bit `hgei` of `cpu`'s HGEIE CSR: its owner asked to be woken by that line. */
  hgeie(cpu: number, hgei: number): boolean {
    const hart = this.harts[cpu]!;
    return ((hgei < 32 ? hart.hgeieLo >>> hgei : hart.hgeieHi >>> (hgei - 32)) & 1) === 1;
  }

  /**
   * csr_set / csr_clear(CSR_HGEIE, BIT(hgei)) on `cpu`. Set by a vCPU that
   * blocks with a VS-file (aia_imsic.c kvm_riscv_vcpu_aia_imsic_put while
   * kvm_vcpu_is_blocking; before Linux 6.16, 4cec89db80ba, kvm_riscv_aia_wakeon_hgei
   * from kvm_arch_vcpu_blocking); cleared by hgei_interrupt, by
   * kvm_riscv_vcpu_aia_imsic_update before it uses a line, and at offlining.
   * Nothing clears it when the vCPU wakes for another reason.
   */
  wakeOnHgei(cpu: number, hgei: number, enable: boolean): void {
    const hart = this.harts[cpu]!;
    const bitLo = hgei < 32 ? (1 << hgei) >>> 0 : 0;
    const bitHi = hgei < 32 ? 0 : (1 << (hgei - 32)) >>> 0;
    if (enable) hart.writeHgeie(hart.hgeieLo | bitLo, hart.hgeieHi | bitHi);
    else hart.writeHgeie(hart.hgeieLo & ~bitLo, hart.hgeieHi & ~bitHi);
  }

  /**
   * @internal hgei_interrupt() on `cpu` (SGEIP: hgeip & hgeie ≠ 0): clears the HGEIE
   * bits that fired and kicks their owners.
   */
  hgeiInterrupt(cpu: number): void {
    const hart = this.harts[cpu]!;
    const lo = (hart.hgeipLo & hart.hgeieLo) >>> 0;
    const hi = (hart.hgeipHi & hart.hgeieHi) >>> 0;
    hart.writeHgeie(hart.hgeieLo & ~lo, hart.hgeieHi & ~hi);
    // Only the lines that fired, lowest first (one SGEI per vCPU wake-up: no walk over all GEILEN lines).
    const owners = this.#lineOwners;
    const at = cpu * HGEI_SLOTS;
    for (let b = lo; b !== 0; b &= b - 1) owners[at + 31 - Math.clz32(b & -b)]?.kick();
    for (let b = hi; b !== 0; b &= b - 1) owners[at + 63 - Math.clz32(b & -b)]?.kick();
  }

  /** Trace only: the VS-files in use on `cpu` as a counter of the host's CPU track. */
  #sampleInUse(cpu: number): void {
    const tr = this.#tracer!;
    tr.sample(tr.track("host", `cpu${cpu}`, "host-cpu"), "aia", `cpu${cpu} VS-files in use`, this.nrHgei - this.allocator.freeOn(cpu));
  }

  /** Used lines per hart (for reports). */
  usage(): number[] {
    return this.harts.map((_, c) => this.nrHgei - this.allocator.freeOn(c));
  }
}

/**
 * A hart's IMSIC outputs into the host. One object of one class per hart,
 * rather than closures: a guest file's line change is then a method call on
 * the object, where a closure is a function and a context, two more objects
 * a delivery to a hart whose state has left the cache fetches from memory.
 */
class HartLines implements ImsicHartLines {
  constructor(
    private readonly host: RiscvAiaHost,
    private readonly cpu: number,
  ) {}

  hgeip(guest: number, asserted: boolean): void {
    this.host.hgeipChanged(this.cpu, guest, asserted);
  }

  sgeip(asserted: boolean): void {
    if (asserted) this.host.hgeiInterrupt(this.cpu);
  }
}
