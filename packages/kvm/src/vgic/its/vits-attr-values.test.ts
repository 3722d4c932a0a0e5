/**
 * KVM_SET_DEVICE_ATTR on KVM_DEV_ARM_VGIC_GRP_ITS_REGS with a value that is
 * no u64 (NaN, a fraction, a string) fails with EFAULT, as Linux's get_user()
 * of the attr's u64 pointer does for a bad pointer (vgic-its.c
 * vgic_its_attr_regs_access); it threw a RangeError from BigInt(NaN) before.
 * Found by `npm run fuzz` (target kvm-ioctls, seed 154).
 */
import { describe, expect, test } from "vitest";
import { KvmError } from "../../errno.js";
import { Kvm } from "../../kvm.js";
import { KVM_DEV_TYPE_ARM_VGIC_ITS, KVM_DEV_TYPE_ARM_VGIC_V3 } from "../../uapi/device-types.js";
import { KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, KVM_VGIC_ITS_ADDR_TYPE } from "../vgic-uapi.js";

describe("vITS register attributes: values that are not a u64", () => {
  test.each([Number.NaN, 1.5, "0x10", undefined])("value %s → EFAULT", (value) => {
    const vm = new Kvm().createVm();
    vm.createVcpu(0);
    vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_V3);
    const its = vm.createDevice(KVM_DEV_TYPE_ARM_VGIC_ITS);
    its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ADDR, attr: KVM_VGIC_ITS_ADDR_TYPE, value: 0x0808_0000 });
    let err: unknown;
    try {
      its.setDeviceAttr({ group: KVM_DEV_ARM_VGIC_GRP_ITS_REGS, attr: 8, value });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KvmError);
    expect((err as KvmError).code).toBe("EFAULT");
  });
});
