/**
 * What one architecture's ONE_REG registers look like to the vCPU fd: the
 * vCPU checks the architecture and value width, the bank answers for the
 * registers it knows (ENOENT for the rest, as kvm_arm_get_reg /
 * kvm_riscv_vcpu_get_reg end) and applies its own rules on writes.
 */
export interface OneRegBank {
  /** KVM_GET_ONE_REG of `id` (already known to be of this architecture). */
  get(id: bigint): bigint;
  /** KVM_SET_ONE_REG of `id` with a value that fits the id's size. */
  set(id: bigint, value: bigint): void;
  /** KVM_GET_REG_LIST's ids, in the order Linux lists them. */
  list(): readonly bigint[];
}
