/**
 * MSI injection into the vITS: what KVM_SIGNAL_MSI and an MSI routing entry
 * (irqfd, kvm_set_msi) end in on arm64 — Linux vgic_its_inject_msi()
 * (arch/arm64/kvm/vgic/vgic-its.c vgic_its_inject_msi, vgic_its_inject_cached_translation,
 * vgic_its_trigger_msi; virt/kvm/irqchip.c kvm_send_userspace_msi).
 *
 * Order of the checks, as Linux:
 * 1. a cached translation (6.10+: per ITS, found by the doorbell address, keyed
 *    by DeviceID and EventID) is injected at once → 1 (vgic_its_inject_cached_translation;
 *    the flags are not looked at on this path);
 * 2. vgic_msi_to_its(): no ITS on the VM → ENODEV; KVM_MSI_VALID_DEVID missing →
 *    EINVAL (msis_require_devid); the address is in no ITS frame → EINVAL;
 * 3. vgic_its_trigger_msi(): ITS disabled → EBUSY; (DeviceID, EventID) or its
 *    collection unmapped → 0 ("blocked by the guest"); the target
 *    redistributor has EnableLPIs = 0 → EBUSY; delivered → 1. A forwarded LPI
 *    (irq->hw) is made pending through the host ITS (irq_set_irqchip_state).
 */

import { ITS_MSI_DELIVERED, ITS_MSI_DELIVERED_VIRTUAL } from "@irqlab/gic";
import { fail } from "../../errno.js";
import type { KvmMsi } from "../../irqchip.js";
import { KVM_MSI_VALID_DEVID } from "../../irqfd/gsi-routing.js";
import type { Vm } from "../../vm.js";
import { vitsContext, vmHasIts, VitsLpiTarget, type VitsDeviceLike, type VitsVmContext } from "./vits-vm.js";

const IOCTL = "KVM_SIGNAL_MSI";

/**
 * vgic_its_inject_msi(): returns 1 when the MSI was delivered, 0 when the
 * guest blocked it (unmapped DeviceID/EventID or collection).
 * @throws KvmError ENODEV (the VM has no ITS), EINVAL (no KVM_MSI_VALID_DEVID,
 *   or the address is not an ITS doorbell), EBUSY (ITS disabled, or the
 *   target redistributor's LPIs are disabled).
 */
export function vgicItsInjectMsi(vm: Vm, msi: KvmMsi): number {
  if (!vmHasIts(vm)) return fail("ENODEV", IOCTL, `${vm.name}: no vITS (KVM_DEV_TYPE_ARM_VGIC_ITS) on this VM`);
  const ctx = vitsContext(vm);
  const addr = msi.addressHi * 2 ** 32 + (msi.addressLo >>> 0);
  const dev = ctx.deviceAt(addr);
  const eventId = msi.data >>> 0;
  const devId = msi.devid >>> 0;
  // 1. The translation cache (only physical translations are cached, as KVM skips irq->hw).
  // One lookup: a hit is delivered here, unpacking rd × 2^24 + pINTID (its-translation-cache.ts).
  const cached = dev !== undefined && dev.its.enabled && dev.its.cache !== undefined ? dev.its.cache.lookup(devId, eventId) : -1;
  if (cached >= 0) {
    ctx.target.setLpiPending(Math.floor(cached / 16777216), cached % 16777216);
    return 1;
  }
  // 2. vgic_msi_to_its()
  if ((msi.flags & KVM_MSI_VALID_DEVID) === 0) return fail("EINVAL", IOCTL, `${vm.name}: the vITS needs KVM_MSI_VALID_DEVID`);
  if (dev === undefined) return fail("EINVAL", IOCTL, `${vm.name}: 0x${addr.toString(16)} is not the doorbell of any vITS`);
  // 3. vgic_its_trigger_msi() → vgic_its_resolve_lpi()
  return triggerMsi(ctx, dev, devId, eventId);
}

function triggerMsi(ctx: VitsVmContext, dev: VitsDeviceLike, devId: number, eventId: number): number {
  const its = dev.its;
  if (!its.enabled) return fail("EBUSY", IOCTL, `${ctx.vm.name}: the vITS is disabled (GITS_CTLR.Enabled = 0)`);
  const rd = resolveTarget(dev, devId, eventId);
  if (rd < 0) {
    its.translateAfterCacheMiss(devId, eventId); // counted as a dropped MSI
    return 0;
  }
  if (!ctx.lpisEnabled(rd)) return fail("EBUSY", IOCTL, `${ctx.vm.name}: LPIs are disabled on redistributor ${rd} (GICR_CTLR.EnableLPIs = 0)`);
  // injectMsi asked the cache already: one miss, one walk of the tables.
  const r = its.translateAfterCacheMiss(devId, eventId);
  return r === ITS_MSI_DELIVERED || r === ITS_MSI_DELIVERED_VIRTUAL ? 1 : 0;
}

/**
 * The redistributor (the target vCPU's creation index, its Gicv3 PE) an MSI
 * to `dev` would target: find_ite(), the ITE's collection and
 * collection_to_vcpu(); −1 when the ITE is missing, not physical, its
 * collection is unmapped, or no vCPU answers to its RDbase
 * (E_ITS_INT_UNMAPPED_INTERRUPT).
 */
export function resolveTarget(dev: VitsDeviceLike, devId: number, eventId: number): number {
  const ex = dev.its.executor;
  ex.lookup(devId, eventId);
  const ite = ex.ite;
  if (!ite.valid || !ite.physical || ite.icid < 0) return -1;
  const rd = ex.ctx.store.readCte(ite.icid);
  if (rd < 0) return -1;
  const target = ex.ctx.target;
  if (target instanceof VitsLpiTarget) return target.ctx.peOfRdbase(rd);
  return rd < target.redistributorCount ? rd : -1;
}

/**
 * vgic_its_resolve_lpi without side effects: [redistributor, LPI INTID] of a
 * mapped ITE whose collection resolves (as {@link resolveTarget}), where the
 * redistributor is the LPI's own target (irq->target_vcpu): the collection's
 * vCPU unless a MOVALL moved the LPI elsewhere. Undefined otherwise.
 */
export function resolveLpi(dev: VitsDeviceLike, devId: number, eventId: number): readonly [number, number] | undefined {
  const rd = resolveTarget(dev, devId, eventId);
  if (rd < 0) return undefined;
  const ite = dev.its.executor.ite;
  const target = dev.its.executor.ctx.target;
  if (ite.affinity < 0) return [rd, ite.intid];
  const moved = target instanceof VitsLpiTarget ? target.ctx.peOfRdbase(ite.affinity) : ite.affinity;
  return moved < 0 ? undefined : [moved, ite.intid];
}
