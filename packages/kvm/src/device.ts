/**
 * KVM device fds (KVM_CREATE_DEVICE; Documentation/virt/kvm/devices/) and the
 * attribute interface shared by device, vCPU and VM fds:
 * KVM_SET_DEVICE_ATTR / KVM_GET_DEVICE_ATTR / KVM_HAS_DEVICE_ATTR with a
 * `struct kvm_device_attr { flags, group, attr, addr }` (include/uapi/linux/kvm.h;
 * Documentation/virt/kvm/api.rst "KVM_SET_DEVICE_ATTR/KVM_GET_DEVICE_ATTR"). Here `addr` — a pointer to the value in userspace — is the value
 * itself (`value`).
 *
 * Device models register a factory per type on the {@link Kvm} (the vgic and
 * AIA packages plug in that way); KVM_CREATE_DEVICE of a type nobody
 * registered fails with ENODEV, as kvm_ioctl_create_device() does for an
 * unknown type. {@link AttrGroupTable} is a helper for implementations: a
 * table of groups, ENXIO for an unknown group, as the vgic and AIA devices
 * answer (vgic_v3_has_attr, aia_has_attr).
 */

import { fail } from "./errno.js";
import type { Vm } from "./vm.js";

/** struct kvm_device_attr, with the value in place of its userspace address. */
export interface DeviceAttr {
  /** No flags are defined; Linux passes the field through unchecked, and so does the model. */
  readonly flags?: number;
  /** Attribute group (device-defined). */
  readonly group: number;
  /** Attribute within the group (group-defined; 64-bit, may need a bigint). */
  readonly attr: number | bigint;
  /** The value to set (KVM_SET_DEVICE_ATTR); ignored by GET/HAS. */
  readonly value?: unknown;
}

/** What a device type implements. Methods throw {@link KvmError} as the ioctl would fail. */
export interface KvmDeviceOps {
  /** KVM_SET_DEVICE_ATTR. */
  setAttr(attr: DeviceAttr): void;
  /** KVM_GET_DEVICE_ATTR: returns the value. */
  getAttr(attr: DeviceAttr): unknown;
  /** KVM_HAS_DEVICE_ATTR: returns normally if supported, throws ENXIO otherwise. */
  hasAttr(attr: DeviceAttr): void;
}

/**
 * Creates the implementation of one device instance. May throw a KvmError
 * (EEXIST for a second vgic, EBUSY after a vCPU ran, ...). `test` is true
 * for KVM_CREATE_DEVICE_TEST: check only, the result is discarded.
 */
export type KvmDeviceFactory = (vm: Vm, type: number, test: boolean) => KvmDeviceOps;

/** A device fd. */
export class Device {
  constructor(
    /** The VM it belongs to. */
    readonly vm: Vm,
    /** KVM_DEV_TYPE_*. */
    readonly type: number,
    /** The device model. */
    readonly ops: KvmDeviceOps,
  ) {}

  /** KVM_SET_DEVICE_ATTR. */
  setDeviceAttr(attr: DeviceAttr): void {
    this.ops.setAttr(attr);
  }

  /** KVM_GET_DEVICE_ATTR. */
  getDeviceAttr(attr: DeviceAttr): unknown {
    return this.ops.getAttr(attr);
  }

  /** KVM_HAS_DEVICE_ATTR: returns normally if supported; throws ENXIO otherwise. */
  hasDeviceAttr(attr: DeviceAttr): void {
    this.ops.hasAttr(attr);
  }
}

/** One attribute group of an {@link AttrGroupTable}. */
export interface AttrGroup {
  /** Whether `attr` exists in the group. */
  has(attr: number | bigint): boolean;
  /** Sets it (attr already checked by `has`). */
  set?(attr: number | bigint, value: unknown): void;
  /** Reads it (attr already checked by `has`). */
  get?(attr: number | bigint): unknown;
}

/**
 * A {@link KvmDeviceOps} built from a table of groups: unknown group or
 * attribute → ENXIO; a group without a setter/getter → ENXIO for that direction.
 */
export class AttrGroupTable implements KvmDeviceOps {
  constructor(
    /** Name for messages ("vgic-v3"). */
    readonly name: string,
    /** Groups by number. */
    readonly groups: ReadonlyMap<number, AttrGroup>,
  ) {}

  setAttr(a: DeviceAttr): void {
    const g = this.#lookup(a, "KVM_SET_DEVICE_ATTR");
    if (!g.set) fail("ENXIO", "KVM_SET_DEVICE_ATTR", `${this.name}: group ${a.group} attribute ${a.attr} is read-only`);
    g.set(a.attr, a.value);
  }

  getAttr(a: DeviceAttr): unknown {
    const g = this.#lookup(a, "KVM_GET_DEVICE_ATTR");
    if (!g.get) fail("ENXIO", "KVM_GET_DEVICE_ATTR", `${this.name}: group ${a.group} attribute ${a.attr} is write-only`);
    return g.get(a.attr);
  }

  hasAttr(a: DeviceAttr): void {
    this.#lookup(a, "KVM_HAS_DEVICE_ATTR");
  }

  #lookup(a: DeviceAttr, ioctl: string): AttrGroup {
    const g = this.groups.get(a.group);
    if (!g) fail("ENXIO", ioctl, `${this.name}: unknown attribute group ${a.group}`);
    if (!g.has(a.attr)) fail("ENXIO", ioctl, `${this.name}: unknown attribute ${a.attr} in group ${a.group}`);
    return g;
  }
}
