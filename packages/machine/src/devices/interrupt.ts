/**
 * The interrupt outputs of the device models, injected as callbacks: a wired
 * line (QEMU qemu_irq) and a message-signalled interrupt sink (QEMU
 * msi_send_message → pci_msi_trigger: a DWORD write of the message data to
 * the message address on the function's bus-master address space, tagged
 * with its requester ID). The machine decides what a message does: on arm64
 * with the in-kernel ITS a write to GITS_TRANSLATER becomes KVM_SIGNAL_MSI
 * with `devid` = requester ID and KVM_MSI_VALID_DEVID (QEMU
 * hw/intc/arm_gicv3_its_kvm.c kvm_its_send_msi); on riscv64 a write to an
 * IMSIC interrupt file. The device never sees a GSI
 * (as rust-vmm vm-superio devices see only their `Trigger`).
 */

/**
 * A level-sensitive interrupt output (QEMU qemu_irq). Called with the new
 * level every time the device recomputes it, as QEMU's qemu_set_irq() is,
 * so the same level may be reported twice in a row.
 */
export type IrqLine = (level: boolean) => void;

/**
 * Receives one MSI/MSI-X message: `data` written to the 64-bit address
 * `addressHi:addressLo` by the function whose requester ID (bus << 8 |
 * devfn) is `requesterId`.
 */
export type MsiSink = (addressLo: number, addressHi: number, data: number, requesterId: number) => void;

/**
 * An MSI-X message as a table entry holds it (QEMU MSIMessage). Objects
 * handed to callbacks are reused: copy the fields to keep them.
 */
export interface MsiMessage {
  /** Message Address, low 32 bits. */
  addressLo: number;
  /** Message Upper Address. */
  addressHi: number;
  /** Message Data. */
  data: number;
}
