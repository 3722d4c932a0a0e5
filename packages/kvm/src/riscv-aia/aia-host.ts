/**
 * The host side of KVM RISC-V AIA: every hart's IMSIC with its GEILEN guest
 * interrupt files (VS-files), the per-CPU HGEI allocator (Linux's
 * aia_hgei_control), the owner of each line, the SGEI path that tells an
 * owner its file asserted hgeip, and hart offlining (kvm_riscv_aia_disable).
 * Linux arch/riscv/kvm/aia.c (kvm_riscv_aia_init, kvm_riscv_aia_alloc_hgei,
 * kvm_riscv_aia_free_hgei, hgei_interrupt, kvm_riscv_aia_disable, aia_hgei_init);
 * aia_imsic.c kvm_riscv_vcpu_aia_imsic_update.
 *
 * One RiscvAiaHost serves every VM of a Kvm: the VS-files are a host
 * resource that VMs compete for, which is seed 000's subject. The
 * "linux-6.18"/"linux-6.19" profile picks the KVM_EXIT_FAIL_ENTRY reason, and
 * `kernelMigrate` selects the remedy proposed in that thread (KVM migrates a
 * vCPU to a hart with a free file instead of failing; see vsfile-placement.ts).
 */

import { ImsicHart, LINUX_KVM_PROFILE } from "@irqlab/aia";
import { ConfigError, type Tracer } from "@irqlab/sim";
import { KVM_EXIT_FAIL_ENTRY_NO_VSFILE } from "../uapi/exit-reasons.js";
import { HgeiAllocator } from "../vsfile/hgei-allocator.js";
import { RISCV_FAIL_ENTRY_REASON_CSR_HSTATUS, type RiscvAiaKernelProfile } from "./aia-uapi.js";

/** What the host needs of a vCPU that can own a VS-file. */
export interface VsFileOwner {
  /** VM name, for failure records. */
  readonly vmName: string;
  /** VM index on the Kvm. */
  readonly vmIndex: number;
  /** vCPU id. */
  readonly vcpuId: number;
  /** The owned file's hgeip line changed (SGEI: hgei_interrupt kicks the owner). */
  vsFileLine(asserted: boolean): void;
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
  /** The per-CPU line allocator. */
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
  readonly #owners: (VsFileOwner | undefined)[] = [];
  readonly #online: boolean[];

  constructor(o: RiscvAiaHostOptions) {
    if (!Number.isInteger(o.harts) || o.harts < 1) throw new ConfigError(`RISC-V AIA host: hart count ${o.harts} is not a positive integer`);
    this.allocator = new HgeiAllocator(o.harts, o.geilen);
    this.guestIds = o.guestIds ?? 255;
    const profile: string = o.profile ?? "linux-6.19";
    if (profile !== "linux-6.18" && profile !== "linux-6.19") throw new ConfigError(`RISC-V AIA host: profile '${profile}' is not linux-6.18 or linux-6.19`);
    this.profile = profile;
    this.failReason = this.profile === "linux-6.18" ? RISCV_FAIL_ENTRY_REASON_CSR_HSTATUS : KVM_EXIT_FAIL_ENTRY_NO_VSFILE;
    this.#online = new Array<boolean>(o.harts).fill(true);
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
          lines: { hgeip: (g, on) => { this.#owners[this.allocator.ownerOf(h, g)]?.vsFileLine(on); } },
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

  /** @internal Registers a possible owner; returns its owner id. */
  register(owner: VsFileOwner): number {
    this.#owners.push(owner);
    return this.#owners.length - 1;
  }

  /** The AIA vCPU (vmIndex, vcpuId), if registered. */
  ownerFor(vmIndex: number, vcpuId: number): VsFileOwner | undefined {
    return this.#owners.find((o) => o?.vmIndex === vmIndex && o.vcpuId === vcpuId);
  }

  /** The owner of line `hgei` on `cpu`, if any. */
  ownerOf(cpu: number, hgei: number): VsFileOwner | undefined {
    return this.#owners[this.allocator.ownerOf(cpu, hgei)];
  }

  /** kvm_riscv_aia_alloc_hgei(): lowest free line on `cpu`, or a negative errno (-ENOENT none free, -ENODEV offline). */
  alloc(cpu: number, ownerId: number): number {
    if (!this.#online[cpu]) return -19;
    return this.allocator.alloc(cpu, ownerId);
  }

  /** kvm_riscv_aia_free_hgei(). */
  free(cpu: number, hgei: number): void {
    this.allocator.free(cpu, hgei);
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
   * Going offline releases every VS-file on it into its owner's SW-file; its
   * lines are then unavailable until it is back.
   */
  setHartOnline(cpu: number, online: boolean): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.harts.length) throw new ConfigError(`RISC-V AIA host: hart ${cpu} is not in 0..${this.harts.length - 1}`);
    if (online) {
      this.#online[cpu] = true;
      return;
    }
    for (let g = 1; g <= this.nrHgei; g++) this.ownerOf(cpu, g)?.releaseVsFile();
    this.#online[cpu] = false;
  }

  /** Used lines per hart (for reports). */
  usage(): number[] {
    return this.harts.map((_, c) => this.nrHgei - this.allocator.freeOn(c));
  }
}
