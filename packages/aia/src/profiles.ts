/**
 * Compatibility profiles: where Linux KVM's in-kernel AIA and QEMU's emulated
 * AIA deviate from (or choose differently within) the AIA 1.0 specification,
 * each deviation is one named switch, and a profile is a set of switches.
 * `strict` (the default) is the specification.
 *
 * Sources, per switch, are in the TSDoc below and in the package README;
 * sources: the AIA specification (riscv/riscv-aia src/IMSIC.adoc, src/AdvPLIC.adoc),
 * Linux arch/riscv/kvm/aia_imsic.c and aia_aplic.c, QEMU hw/intc/riscv_imsic.c
 * and hw/intc/riscv_aplic.c.
 */

import { ConfigError } from "@irqlab/sim";

/** What an access to a reserved `*iselect` number (0x71, 0x73–0x7F) does. */
export type ReservedIselAction = "raz-wi" | "illegal" | "exit-to-user";

/** One set of deviation switches. Every field is documented with its source. */
export interface AiaProfile {
  /** Profile name, as passed to {@link aiaProfile}. */
  readonly name: string;
  /**
   * Reserved indirect register numbers inside 0x70–0xFF.
   * strict: read zero, writes ignored (IMSIC.adoc §3.8).
   * linux-kvm: `kvm_riscv_vcpu_aia_imsic_rmw` returns -ENOENT → KVM_EXIT_RISCV_CSR.
   * qemu: `riscv_imsic_rmw` logs LOG_GUEST_ERROR, -EINVAL → illegal instruction.
   */
  readonly imsicReservedIsel: ReservedIselAction;
  /**
   * Whether `seteipnum_be` sets pending bits. strict and linux-kvm: yes
   * (KVM `imsic_mmio_write` swabs the value); qemu: writes are silently
   * ignored (allowed for little-endian-only systems, IMSIC.adoc §3.2).
   */
  readonly imsicSeteipnumBe: boolean;
  /**
   * `eipK`/`eieK` numbers for identities the file does not implement (K·32 > N)
   * raise an illegal instruction. strict: they read zero and ignore writes
   * (bits of unimplemented identities are read-only zero, IMSIC.adoc §3.9).
   * linux-kvm: `imsic_mrif_isel_check` returns -EINVAL for K/2 ≥ nr_eix;
   * qemu: `riscv_imsic_eix_rmw` returns -EINVAL for K beyond num_irqs.
   */
  readonly imsicEixBeyondIdsIllegal: boolean;
  /**
   * APLIC `target[i]` and `setie`/`setienum` work on inactive sources (read
   * back what was written). Spec §4.5.2/§4.5.16: read-only zero when inactive.
   * linux-kvm: `aplic_write_target`/`aplic_write_enabled` have no active check.
   */
  readonly aplicNoActiveCheck: boolean;
  /**
   * A `sourcecfg` write that makes a source inactive keeps its pending and
   * enable bits. Spec §4.5.2: they become read-only zeros. linux-kvm:
   * `aplic_write_sourcecfg` does not clear them.
   */
  readonly aplicInactiveKeepsBits: boolean;
  /**
   * Reserved source modes 2 and 3 are stored as written (and the source acts
   * as inactive). Spec: SM is WARL, the model maps 2/3 to Inactive (0).
   * linux-kvm: `aplic_write_sourcecfg` masks SM to 3 bits and stores it.
   */
  readonly aplicStoresReservedSm: boolean;
  /**
   * The `mmsiaddrcfg`/`smsiaddrcfg` registers are absent (read zero, writes
   * ignored); MSIs are routed by the address configuration the host gave at
   * construction. linux-kvm: not implemented (-ENODEV), routing by hart index.
   */
  readonly aplicNoMsiAddrCfg: boolean;
}

/** The AIA 1.0 specification, no deviations. The default everywhere. */
export const STRICT_PROFILE: AiaProfile = Object.freeze({
  name: "strict",
  imsicReservedIsel: "raz-wi",
  imsicSeteipnumBe: true,
  imsicEixBeyondIdsIllegal: false,
  aplicNoActiveCheck: false,
  aplicInactiveKeepsBits: false,
  aplicStoresReservedSm: false,
  aplicNoMsiAddrCfg: false,
});

/** Linux KVM's in-kernel AIA (`KVM_DEV_TYPE_RISCV_AIA`) as read in arch/riscv/kvm. */
export const LINUX_KVM_PROFILE: AiaProfile = Object.freeze({
  name: "linux-kvm",
  imsicReservedIsel: "exit-to-user",
  imsicSeteipnumBe: true,
  imsicEixBeyondIdsIllegal: true,
  aplicNoActiveCheck: true,
  aplicInactiveKeepsBits: true,
  aplicStoresReservedSm: true,
  aplicNoMsiAddrCfg: true,
});

/** QEMU's emulated IMSIC and APLIC (hw/intc/riscv_imsic.c, riscv_aplic.c, 2025). */
export const QEMU_PROFILE: AiaProfile = Object.freeze({
  name: "qemu",
  imsicReservedIsel: "illegal",
  imsicSeteipnumBe: false,
  imsicEixBeyondIdsIllegal: true,
  aplicNoActiveCheck: false,
  aplicInactiveKeepsBits: false,
  aplicStoresReservedSm: false,
  aplicNoMsiAddrCfg: false,
});

/** Names accepted by {@link aiaProfile}. */
export type AiaProfileName = "strict" | "linux-kvm" | "qemu";

const PROFILES: Readonly<Record<AiaProfileName, AiaProfile>> = {
  strict: STRICT_PROFILE,
  "linux-kvm": LINUX_KVM_PROFILE,
  qemu: QEMU_PROFILE,
};

/**
 * The profile called `name`.
 * @throws ConfigError naming the bad value for an unknown name.
 */
export function aiaProfile(name: string): AiaProfile {
  const p = (PROFILES as Readonly<Record<string, AiaProfile | undefined>>)[name];
  if (p === undefined) {
    throw new ConfigError(`unknown AIA profile '${name}' (valid: ${Object.keys(PROFILES).join(", ")})`);
  }
  return p;
}

/** Every named profile, strict first. */
export function aiaProfiles(): readonly AiaProfile[] {
  return [STRICT_PROFILE, LINUX_KVM_PROFILE, QEMU_PROFILE];
}
