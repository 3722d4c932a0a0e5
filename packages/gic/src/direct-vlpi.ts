/**
 * The contract between GICv4.1 direct injection and the virtual CPU interface.
 *
 * With GICv4.1 (IHI 0069H §5.4, §9), a vLPI mapped by VMAPTI is made pending
 * by the ITS straight into the virtual pending table of its vPE, without the
 * hypervisor. While the vPE is resident on a redistributor
 * (GICR_VPENDBASER.Valid = 1), the virtual CPU interface of that PE considers
 * those vLPIs alongside the list registers when the guest reads ICV_IAR1_EL1,
 * ICV_HPPIR1_EL1 or ICV_RPR_EL1. LPIs have no active state: acknowledging one
 * clears its pending bit and raises the running priority until the EOI.
 */

/** The resident vPE's directly injected vLPIs, as the virtual CPU interface sees them. */
export interface DirectVlpiSource {
  /**
   * The highest-priority pending and enabled vLPI of the resident vPE, or -1
   * when there is none (or no vPE is resident). Ties go to the lowest INTID.
   */
  highestPendingVlpi(): number;
  /** The priority (8-bit, from the vLPI configuration table) of `vintid`. */
  vlpiPriority(vintid: number): number;
  /** Acknowledges `vintid`: clears its pending bit. */
  acknowledgeVlpi(vintid: number): void;
}
