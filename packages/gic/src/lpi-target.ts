/**
 * The contract between the ITS and the redistributors: what an ITS does to the
 * physical LPI state of a PE when it translates an MSI or executes a command.
 *
 * GICv3 (IHI 0069H) §5.1: an LPI is made pending in the redistributor chosen
 * by the collection's target; INV and INVALL make the redistributor reload the
 * cached configuration (priority, enable) of one or all LPIs from the LPI
 * configuration table in memory (§5.1.1, §6.3.8, §6.3.9); MOVI/MOVALL move
 * pending state between redistributors (§6.3.14, §6.3.13).
 *
 * Redistributors are addressed by processor number (GICR_TYPER.Processor_Number),
 * which is what an ITS uses as a target when GITS_TYPER.PTA = 0, as in KVM.
 */

/** What the ITS needs from the GIC's redistributors. */
export interface LpiTarget {
  /** Number of redistributors; valid processor numbers are 0 .. count − 1 unless {@link hasRedistributor} says otherwise. */
  readonly redistributorCount: number;
  /**
   * Whether processor number `rd` names a redistributor, when that is not
   * simply `rd < redistributorCount`: KVM's vITS resolves an RDbase with
   * kvm_get_vcpu_by_id(), so the valid numbers are the vCPU ids, not 0 .. n − 1.
   */
  hasRedistributor?(rd: number): boolean;
  /**
   * Makes LPI `intid` (≥ 8192) pending on redistributor `rd`. Ignored when
   * LPIs are disabled there (GICR_CTLR.EnableLPIs = 0): the interrupt is lost,
   * as the architecture allows.
   */
  setLpiPending(rd: number, intid: number): void;
  /** Clears the pending state of LPI `intid` on `rd` (CLEAR, DISCARD). */
  clearLpiPending(rd: number, intid: number): void;
  /** Whether LPI `intid` is pending on `rd` (used to move state on MOVI/MOVALL). */
  isLpiPending(rd: number, intid: number): boolean;
  /** INV: reloads the configuration byte of LPI `intid` on `rd` from memory. */
  invalidateLpi(rd: number, intid: number): void;
  /** INVALL: reloads the configuration of every LPI on `rd` from memory. */
  invalidateAllLpis(rd: number): void;
}
