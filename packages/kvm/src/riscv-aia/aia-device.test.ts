// KVM_DEV_TYPE_RISCV_AIA attributes, errnos and SW-file / APLIC / MSI delivery
// (Linux arch/riscv/kvm/aia_device.c, aia_imsic.c, aia_aplic.c; arch/riscv/include/uapi/asm/kvm.h).
import { op } from "@irqlab/sim";
import { describe, expect, it } from "vitest";
import { KvmError } from "../errno.js";
import { EventFd } from "../irqfd/eventfd.js";
import { KVM_IRQ_ROUTING_IRQCHIP, KVM_IRQ_ROUTING_MSI } from "../irqfd/gsi-routing.js";
import { Host } from "../host.js";
import { REG_DIRECT, REG_TRAP } from "../irqchip.js";
import { Kvm } from "../kvm.js";
import { KVM_DEV_TYPE_RISCV_AIA } from "../uapi/device-types.js";
import { KVM_EXIT_INTR, KVM_EXIT_RISCV_CSR } from "../uapi/exit-reasons.js";
import type { RiscvCsrExit } from "../kvm-run.js";
import { registerRiscvAia } from "./aia-register.js";
import { claimingGuest, createAiaVm, VIRT_APLIC_S, VIRT_IMSIC_S } from "../../test/aia-test-kit.js";
import * as U from "./aia-uapi.js";
import type { RiscvAiaDevice } from "./aia-device.js";
import { CSR_SIREG, CSR_SISELECT, CSR_STOPEI, type AiaVcpuChip } from "./aia-vcpu.js";

const C = U.KVM_DEV_RISCV_AIA_GRP_CONFIG;
const A = U.KVM_DEV_RISCV_AIA_GRP_ADDR;

function setup(geilen = 2, cpus = 2): { kvm: Kvm } {
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus }) });
  registerRiscvAia(kvm, { geilen });
  return { kvm };
}

/** KVM_SIGNAL_MSI of `data` to `addr` (split into address_lo/hi): what it returned, or the errno it failed with. */
function signalMsi(aia: RiscvAiaDevice, addr: number, data: number): string | number {
  try {
    return aia.injectMsi({ addressLo: addr % 2 ** 32, addressHi: Math.floor(addr / 2 ** 32), data, flags: 0, devid: 0 });
  } catch (e) {
    if (e instanceof KvmError) return e.code;
    throw e;
  }
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof KvmError) return e.code;
    throw e;
  }
  return "ok";
}

describe("KVM_DEV_TYPE_RISCV_AIA attributes", () => {
  it("has Linux's defaults: AUTO with VS-files, EMUL without; IDS = nr_guest_ids; GROUP_SHIFT 24", () => {
    const { kvm } = setup(2);
    const vm = kvm.createVm();
    const dev = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
    expect(dev.getDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_MODE })).toBe(U.KVM_DEV_RISCV_AIA_MODE_AUTO);
    expect(dev.getDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_IDS })).toBe(255);
    expect(dev.getDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_GROUP_SHIFT })).toBe(24);
    expect(dev.getDeviceAttr({ group: A, attr: U.KVM_DEV_RISCV_AIA_ADDR_APLIC })).toBe(2n ** 64n - 1n); // KVM_RISCV_AIA_UNDEF_ADDR
    const { kvm: k0 } = setup(0);
    const d0 = k0.createVm().createDevice(KVM_DEV_TYPE_RISCV_AIA);
    expect(d0.getDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_MODE })).toBe(U.KVM_DEV_RISCV_AIA_MODE_EMUL);
    // HWACCEL / AUTO need guest files (aia_config: !kvm_riscv_aia_nr_hgei → -EINVAL); IDS limit 2048 without them.
    expect(code(() => { d0.setDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_MODE, value: 1 }); })).toBe("EINVAL");
    expect(d0.getDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_IDS })).toBe(2047);
  });

  it("rejects CONFIG values outside Linux's limits with EINVAL and unknown attributes with ENXIO", () => {
    const { kvm } = setup(2);
    const vm = kvm.createVm();
    vm.createVcpu(0);
    const dev = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
    const w = (attr: number, value: number): string => code(() => { dev.setDeviceAttr({ group: C, attr, value }); });
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_MODE, 3)).toBe("EINVAL");
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_IDS, 100)).toBe("EINVAL"); // not 64k-1
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_IDS, 511)).toBe("EINVAL"); // ≥ max_ids (host 255 + 1)
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_IDS, 127)).toBe("ok");
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_SRCS, 256)).toBe("EINVAL"); // ≥ max_ids
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_GROUP_BITS, 8)).toBe("EINVAL");
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_GROUP_SHIFT, 23)).toBe("EINVAL");
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_GROUP_SHIFT, 56)).toBe("EINVAL");
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, 16)).toBe("EINVAL");
    expect(w(U.KVM_DEV_RISCV_AIA_CONFIG_GUEST_BITS, 8)).toBe("EINVAL");
    expect(w(7, 0)).toBe("ENXIO");
    expect(code(() => { dev.setDeviceAttr({ group: A, attr: 0, value: 0x1001 }); })).toBe("EINVAL");
    expect(code(() => { dev.setDeviceAttr({ group: A, attr: U.KVM_DEV_RISCV_AIA_ADDR_IMSIC(1), value: 0x1000 }); })).toBe("ENXIO");
    expect(code(() => { dev.setDeviceAttr({ group: 9, attr: 0, value: 0 }); })).toBe("ENXIO");
    expect(code(() => dev.getDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_IMSIC, attr: 0x70 }))).toBe("ENODEV");
    expect(code(() => dev.getDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_APLIC, attr: 0 }))).toBe("ENODEV");
    expect(code(() => { vm.irqLine(1, 1); })).toBe("EBUSY");
    expect(code(() => vm.createDevice(KVM_DEV_TYPE_RISCV_AIA))).toBe("EEXIST");
  });

  it("CTRL_INIT checks addresses and base PPNs, then locks CONFIG and ADDR (EBUSY)", () => {
    const { kvm } = setup(2);
    const vm = kvm.createVm();
    vm.createVcpu(0);
    vm.createVcpu(1);
    const dev = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
    const init = (): string => code(() => { dev.setDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_CTRL, attr: U.KVM_DEV_RISCV_AIA_CTRL_INIT }); });
    dev.setDeviceAttr({ group: A, attr: U.KVM_DEV_RISCV_AIA_ADDR_IMSIC(0), value: VIRT_IMSIC_S });
    expect(init()).toBe("EINVAL"); // vCPU 1 has no IMSIC address
    dev.setDeviceAttr({ group: A, attr: U.KVM_DEV_RISCV_AIA_ADDR_IMSIC(1), value: VIRT_IMSIC_S + 0x1000 });
    expect(init()).toBe("EINVAL"); // HART_BITS 0: the hart field is part of the PPN, so the bases differ
    dev.setDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, value: 1 });
    dev.setDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_SRCS, value: 4 });
    expect(init()).toBe("EINVAL"); // SRCS > 0 without an APLIC address
    dev.setDeviceAttr({ group: A, attr: U.KVM_DEV_RISCV_AIA_ADDR_APLIC, value: VIRT_APLIC_S });
    expect(init()).toBe("ok");
    expect(init()).toBe("EBUSY");
    expect(code(() => { dev.setDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_SRCS, value: 2 }); })).toBe("EBUSY");
    expect(code(() => { dev.setDeviceAttr({ group: A, attr: 0, value: 0x1000 }); })).toBe("EBUSY");
    // GRP_APLIC: domaincfg reads 0x80000004 (DM forced 1); misaligned EOPNOTSUPP, unmapped ENODEV.
    expect(dev.getDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_APLIC, attr: 0 })).toBe(0x80000004);
    expect(code(() => dev.getDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_APLIC, attr: 2 }))).toBe("EOPNOTSUPP");
    expect(code(() => dev.getDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_APLIC, attr: 0x4000 }))).toBe("ENODEV");
    expect(code(() => dev.getDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_APLIC, attr: 0x3004 + 4 * 4 }))).toBe("ENODEV"); // target[5] > SRCS
    // KVM_IRQ_LINE: source 0 or ≥ nr_irqs → ENODEV.
    expect(code(() => { vm.irqLine(0, 1); })).toBe("ENODEV");
    expect(code(() => { vm.irqLine(5, 1); })).toBe("ENODEV");
    expect(code(() => { vm.irqLine(4, 1); })).toBe("ok");
    // GRP_IMSIC: reserved isel → ENOENT, odd eip on RV64 → EINVAL, eithreshold readable.
    const im = U.KVM_DEV_RISCV_AIA_GRP_IMSIC;
    expect(code(() => dev.getDeviceAttr({ group: im, attr: U.KVM_DEV_RISCV_AIA_IMSIC_MKATTR(1, 0x71) }))).toBe("ENOENT");
    expect(code(() => dev.getDeviceAttr({ group: im, attr: U.KVM_DEV_RISCV_AIA_IMSIC_MKATTR(1, 0x81) }))).toBe("EINVAL");
    dev.setDeviceAttr({ group: im, attr: U.KVM_DEV_RISCV_AIA_IMSIC_MKATTR(1, 0x72), value: 9n });
    expect(dev.getDeviceAttr({ group: im, attr: U.KVM_DEV_RISCV_AIA_IMSIC_MKATTR(1, 0x72) })).toBe(9n);
    expect(code(() => dev.getDeviceAttr({ group: im, attr: U.KVM_DEV_RISCV_AIA_IMSIC_MKATTR(7, 0x72) }))).toBe("ENODEV");
  });

  it("KVM_SIGNAL_MSI: address → vCPU page, guest index / data 0 / bad offset ENODEV, data > IDS EINVAL, no match dropped", () => {
    const { kvm } = setup(2);
    const { aia } = createAiaVm(kvm, { vcpus: 2, mode: U.KVM_DEV_RISCV_AIA_MODE_EMUL });
    const msi = (addr: number, data: number): string | number => signalMsi(aia, addr, data);
    expect(msi(VIRT_IMSIC_S + 0x1000, 5)).toBe(1);
    expect(aia.chip(1)!.swfile!.isPending(5)).toBe(true);
    expect(aia.chip(0)!.swfile!.isPending(5)).toBe(false);
    expect(msi(VIRT_IMSIC_S + 0x1004, 0x06000000)).toBe(1); // seteipnum_be
    expect(aia.chip(1)!.swfile!.isPending(6)).toBe(true);
    expect(msi(VIRT_IMSIC_S, 0)).toBe("ENODEV");
    expect(msi(VIRT_IMSIC_S + 8, 5)).toBe("ENODEV");
    expect(msi(VIRT_IMSIC_S, 256)).toBe("EINVAL");
    expect(msi(0x3000_0000, 5)).toBe(0);
  });

  it("KVM_SIGNAL_MSI with GUEST_BITS: the guest index is the page's low bits, cleared to find the vCPU; only index 0 is emulated", () => {
    // kvm_riscv_aia_inject_msi: tppn = target >> 12, g = tppn & (BIT(nr_guest_bits) - 1), tppn &= ~that,
    // then the vCPU whose imsic_addr >> 12 is tppn; kvm_riscv_vcpu_aia_imsic_inject: -ENODEV for g != 0.
    // Each hart's pages are 2^GUEST_BITS apart; once below 4 GiB and once above (address_hi set).
    for (const base of [VIRT_IMSIC_S, 0x12_2800_0000]) {
      const { kvm } = setup(2);
      const vm = kvm.createVm();
      for (let i = 0; i < 2; i++) vm.createVcpu(i);
      const dev = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
      dev.setDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_MODE, value: U.KVM_DEV_RISCV_AIA_MODE_EMUL });
      dev.setDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, value: 1 });
      dev.setDeviceAttr({ group: C, attr: U.KVM_DEV_RISCV_AIA_CONFIG_GUEST_BITS, value: 3 });
      for (let i = 0; i < 2; i++) dev.setDeviceAttr({ group: A, attr: U.KVM_DEV_RISCV_AIA_ADDR_IMSIC(i), value: BigInt(base + i * 0x8000) });
      dev.setDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_CTRL, attr: U.KVM_DEV_RISCV_AIA_CTRL_INIT, value: 0 });
      const aia = vm.irqchip as RiscvAiaDevice;
      const msi = (addr: number, data: number): string | number => signalMsi(aia, addr, data);
      expect(msi(base + 0x8000, 5)).toBe(1);
      expect(aia.chip(1)!.swfile!.isPending(5)).toBe(true);
      expect(aia.chip(0)!.swfile!.isPending(5)).toBe(false);
      for (const g of [1, 2, 7]) expect(msi(base + 0x8000 + g * 0x1000, 6)).toBe("ENODEV");
      expect(aia.chip(1)!.swfile!.isPending(6)).toBe(false);
      // Past the last guest page: the next hart's group, which has no vCPU.
      expect(msi(base + 0x10000, 6)).toBe(0);
    }
  });
});

describe("SW-file trap-and-emulate and APLIC in MSI mode", () => {
  it("an APLIC wire edge becomes an MSI the guest claims through trapped stopei", () => {
    const { kvm } = setup(2);
    const { vm, vcpus, device, aia } = createAiaVm(kvm, { vcpus: 1, sources: 8, mode: U.KVM_DEV_RISCV_AIA_MODE_EMUL });
    const claimed: number[] = [];
    vcpus[0]!.loadGuest(claimingGuest([42], claimed));
    expect(vcpus[0]!.run().reason).toBe(KVM_EXIT_INTR); // the guest set up its IMSIC and waits
    const chip = aia.chip(0)!;
    expect(chip.handlesCsr(CSR_STOPEI)).toBe(REG_TRAP);
    expect(chip.handlesCsr(CSR_SIREG)).toBe(REG_TRAP);
    const ap = U.KVM_DEV_RISCV_AIA_GRP_APLIC;
    device.setDeviceAttr({ group: ap, attr: 0x0000, value: 0x100 }); // domaincfg.IE
    device.setDeviceAttr({ group: ap, attr: 0x0004 + 4 * 2, value: 4 }); // sourcecfg[3] = Edge1
    device.setDeviceAttr({ group: ap, attr: 0x3004 + 4 * 2, value: 42 }); // target[3] = hart 0, EIID 42
    device.setDeviceAttr({ group: ap, attr: 0x1edc, value: 3 }); // setienum 3
    vm.irqLine(3, 1);
    expect(chip.swfile!.isPending(42)).toBe(true);
    vcpus[0]!.run();
    expect(claimed).toEqual([42]);
    expect(chip.swfile!.isPending(42)).toBe(false);
  });

  it("a trapped sireg at a reserved siselect exits with KVM_EXIT_RISCV_CSR (aia_imsic.c kvm_riscv_vcpu_aia_imsic_rmw: -ENOENT; vcpu_insn.c csr_insn)", () => {
    const { kvm } = setup(2);
    const { vcpus } = createAiaVm(kvm, { vcpus: 1, mode: U.KVM_DEV_RISCV_AIA_MODE_EMUL });
    const got: number[] = [];
    vcpus[0]!.loadGuest({
      main: function* () {
        yield op.csrWrite(CSR_SISELECT, 0x71); // between eidelivery (0x70) and eithreshold (0x72): reserved
        got.push((yield op.csrRead(CSR_SIREG)).value);
        yield op.csrWrite(CSR_SISELECT, 0x50); // neither iprio (0x30..0x3f) nor IMSIC (0x70..0xff)
        got.push((yield op.csrWrite(CSR_SIREG, 5)).value);
        yield op.csrWrite(CSR_SISELECT, 0x72); // eithreshold: emulated in the kernel
        got.push((yield op.csrRead(CSR_SIREG)).value);
      },
    });
    const e1 = vcpus[0]!.run();
    expect(e1.reason).toBe(KVM_EXIT_RISCV_CSR);
    const c = e1 as RiscvCsrExit;
    expect([c.csrNum, c.writeMask, c.newValue]).toEqual([CSR_SIREG, 0n, 0xffff_ffff_ffff_ffffn]); // csrrs rd, sireg, x0
    c.retValue = 0x1234n;
    const e2 = vcpus[0]!.run();
    expect(e2.reason).toBe(KVM_EXIT_RISCV_CSR);
    expect([(e2 as RiscvCsrExit).writeMask, (e2 as RiscvCsrExit).newValue]).toEqual([0xffff_ffff_ffff_ffffn, 5n]); // csrrw
    expect(vcpus[0]!.run().reason).toBe(KVM_EXIT_INTR);
    expect(got).toEqual([0x1234, 0, 0]);
  });

  it("a guest store to another vCPU's IMSIC page (IPI) traps and lands in its SW-file", () => {
    const { kvm } = setup(2);
    const { vm, aia } = createAiaVm(kvm, { vcpus: 2, mode: U.KVM_DEV_RISCV_AIA_MODE_EMUL });
    expect(vm.kernelBus.write(VIRT_IMSIC_S + 0x1000, 4, 9, 0)).toBe(true);
    expect(aia.chip(1)!.swfile!.isPending(9)).toBe(true);
    vm.kernelBus.write(VIRT_IMSIC_S + 0x1000, 2, 10, 0); // wrong size: guest error, dropped
    expect(aia.chip(1)!.swfile!.isPending(10)).toBe(false);
    expect(vm.tracer.counters.counter("guest-error").value).toBeGreaterThan(0);
  });

  it("with a VS-file the IMSIC CSRs do not trap", () => {
    const { kvm } = setup(2);
    const { vcpus, aia } = createAiaVm(kvm, { vcpus: 1, mode: U.KVM_DEV_RISCV_AIA_MODE_HWACCEL });
    const claimed: number[] = [];
    vcpus[0]!.loadGuest(claimingGuest([7], claimed));
    vcpus[0]!.run();
    const chip: AiaVcpuChip = aia.chip(0)!;
    expect(chip.vsFileHgei).toBe(1);
    expect(chip.handlesCsr(CSR_STOPEI)).toBe(REG_DIRECT);
    aia.injectMsi({ addressLo: VIRT_IMSIC_S, addressHi: 0, data: 7, flags: 0, devid: 0 });
    expect(aia.host.harts[chip.vsFileCpu]!.hgeip(1)).toBe(true);
    vcpus[0]!.run();
    expect(claimed).toEqual([7]);
  });

  it("irqfd routes: an irqchip route drives the APLIC pin, an MSI route the IMSIC (accepted before CTRL_INIT, as RISC-V has no kvm_arch_intc_initialized)", () => {
    const { kvm } = setup(2);
    const { vm, device, aia } = createAiaVm(kvm, { vcpus: 2, sources: 8, mode: U.KVM_DEV_RISCV_AIA_MODE_EMUL });
    const ap = U.KVM_DEV_RISCV_AIA_GRP_APLIC;
    device.setDeviceAttr({ group: ap, attr: 0x0000, value: 0x100 });
    device.setDeviceAttr({ group: ap, attr: 0x0004 + 4 * 4, value: 4 }); // sourcecfg[5] = Edge1
    device.setDeviceAttr({ group: ap, attr: 0x3004 + 4 * 4, value: (1 << 18) | 33 }); // target[5] = hart 1, EIID 33
    device.setDeviceAttr({ group: ap, attr: 0x1edc, value: 5 });
    expect(aia.irqchipNumPins).toBe(1024);
    vm.setGsiRouting([
      { gsi: 5, type: KVM_IRQ_ROUTING_IRQCHIP, irqchip: 0, pin: 5 },
      { gsi: 40, type: KVM_IRQ_ROUTING_MSI, addressLo: VIRT_IMSIC_S, addressHi: 0, data: 41 },
    ]);
    const wired = new EventFd();
    const msi = new EventFd();
    vm.irqfd({ fd: wired, gsi: 5 });
    vm.irqfd({ fd: msi, gsi: 40 });
    wired.write(1);
    msi.write(1);
    expect(aia.chip(1)!.swfile!.isPending(33)).toBe(true); // hart index 1 = vCPU 1 (IMSIC address + 0x1000)
    expect(aia.chip(0)!.swfile!.isPending(41)).toBe(true);
  });

  it("an irqfd's MSI route that fails inside the injection (identity beyond IDS: EINVAL) is counted, not thrown at the writer; a routing update gives the irqfd its new route", () => {
    const { kvm } = setup(2);
    const { vm, aia } = createAiaVm(kvm, { vcpus: 1, ids: 63, mode: U.KVM_DEV_RISCV_AIA_MODE_EMUL });
    vm.setGsiRouting([{ gsi: 40, type: KVM_IRQ_ROUTING_MSI, addressLo: VIRT_IMSIC_S, addressHi: 0, data: 100 }]);
    const fd = new EventFd();
    vm.irqfd({ fd, gsi: 40 });
    // kvm_riscv_vcpu_aia_imsic_inject (arch/riscv/kvm/aia_imsic.c) returns -EINVAL for an identity
    // not below nr_msis = nr_ids + 1; irqfd_wakeup does not pass it on, and the model counts it.
    expect(() => fd.write(1)).not.toThrow();
    expect(vm.tracer.counters.get("irqfd.inject_failed")).toBe(1);
    // irqfd_update: the irqfd injects the route the new table gives its GSI.
    vm.setGsiRouting([{ gsi: 40, type: KVM_IRQ_ROUTING_MSI, addressLo: VIRT_IMSIC_S, addressHi: 0, data: 41 }]);
    fd.write(1);
    expect(aia.chip(0)!.swfile!.isPending(41)).toBe(true);
    expect(vm.tracer.counters.get("irqfd.inject_failed")).toBe(1);
  });

  it("a vCPU created after CTRL_INIT gets no IMSIC state: it runs, takes no MSI, and GRP_IMSIC answers ENODEV", () => {
    const { kvm } = setup(2);
    const { vm, device } = createAiaVm(kvm, { vcpus: 1, mode: U.KVM_DEV_RISCV_AIA_MODE_HWACCEL });
    const late = vm.createVcpu(1);
    late.setMpState(0);
    expect(late.run().reason).toBe(KVM_EXIT_INTR);
    expect(code(() => device.getDeviceAttr({ group: U.KVM_DEV_RISCV_AIA_GRP_IMSIC, attr: U.KVM_DEV_RISCV_AIA_IMSIC_MKATTR(1, 0x70) }))).toBe("ENODEV");
    expect((vm.irqchip as unknown as { chip(i: number): AiaVcpuChip }).chip(1).vsFileCpu).toBe(-1);
  });
});
