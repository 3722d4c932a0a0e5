/**
 * `irqlab demo riscv`: a riscv64 VM with the in-kernel AIA (KVM_DEV_TYPE_RISCV_AIA,
 * auto, hwaccel or emul) on a 4-hart host with 2 guest interrupt files per hart.
 * The guest enables two identities in its IMSIC and programs the in-kernel
 * APLIC (MSI mode) over MMIO; a device then raises APLIC source 3 through
 * KVM_IRQ_LINE and signals an MSI through KVM_SIGNAL_MSI, at times drawn from
 * the seeded RNG. The guest takes each external interrupt, claims it with
 * `csrrw stopei` and completes. Same seed → same trace.
 */
import {
  FdTable,
  KVM_IRQ_ROUTING_MSI,
  KVM_DEV_RISCV_AIA_MODE_AUTO,
  KVM_DEV_RISCV_AIA_MODE_EMUL,
  KVM_DEV_RISCV_AIA_MODE_HWACCEL,
  KVM_EXIT_INTR,
  Host,
  Kvm,
  KVM_DEV_TYPE_RISCV_AIA,
  KVM_DEV_RISCV_AIA_GRP_CONFIG,
  KVM_DEV_RISCV_AIA_CONFIG_MODE,
  KVM_DEV_RISCV_AIA_CONFIG_SRCS,
  KVM_DEV_RISCV_AIA_CONFIG_HART_BITS,
  KVM_DEV_RISCV_AIA_GRP_ADDR,
  KVM_DEV_RISCV_AIA_ADDR_APLIC,
  KVM_DEV_RISCV_AIA_ADDR_IMSIC,
  KVM_DEV_RISCV_AIA_GRP_CTRL,
  KVM_DEV_RISCV_AIA_CTRL_INIT,
  type RiscvAiaDevice,
  CSR_SIREG,
  CSR_SISELECT,
  CSR_STOPEI,
  registerRiscvAia,
} from "@irqlab/kvm";
import { EventQueue, RngStreams, Tracer, op, type GuestProgram } from "@irqlab/sim";

/** Options of the RISC-V demo. */
export interface RiscvDemoOptions {
  readonly seed: number;
  readonly trace: boolean;
  /** AIA mode (default "auto"); "emul" shows the trapped SW-file path for comparison. */
  readonly mode?: "auto" | "hwaccel" | "emul";
}

/** What the demo returns. */
export interface RiscvDemoResult {
  readonly summary: string;
  readonly tracer: Tracer;
}

/** QEMU virt's APLIC-S and IMSIC-S bases (hw/riscv/virt.c virt_memmap). */
const VIRT_APLIC_S = 0x0d00_0000;
const VIRT_IMSIC_S = 0x2800_0000;

/** The APLIC source the device drives and the identities the guest uses. */
const SOURCE = 3;
const EIID_WIRED = 10;
const EIID_MSI = 11;
const EIID_IRQFD = 12;
const GSI_IRQFD = 5;
const CSR_SIE = 0x104;
const SEIE = 1 << 9;

/** Runs the demo to completion in virtual time. */
export function runRiscvDemo(opts: RiscvDemoOptions): RiscvDemoResult {
  const queue = new EventQueue();
  const tracer = new Tracer(queue, { enabled: opts.trace });
  const kvm = new Kvm({ arch: "riscv64", host: new Host({ cpus: 4 }), queue, tracer });
  const aiaHost = registerRiscvAia(kvm, { geilen: 2 });
  const mode = opts.mode === "hwaccel" ? KVM_DEV_RISCV_AIA_MODE_HWACCEL : opts.mode === "emul" ? KVM_DEV_RISCV_AIA_MODE_EMUL : KVM_DEV_RISCV_AIA_MODE_AUTO;
  // The VMM's part, as QEMU's kvm_riscv_aia_create() does it for one hart: mode, sources, addresses, CTRL_INIT.
  const vm = kvm.createVm(0, { name: "guest" });
  const vcpu = vm.createVcpu(0);
  const device = vm.createDevice(KVM_DEV_TYPE_RISCV_AIA);
  const set = (group: number, attr: number, value = 0): void => {
    device.setDeviceAttr({ group, attr, value });
  };
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_MODE, mode);
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_SRCS, 32);
  set(KVM_DEV_RISCV_AIA_GRP_CONFIG, KVM_DEV_RISCV_AIA_CONFIG_HART_BITS, 1);
  set(KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_APLIC, VIRT_APLIC_S);
  set(KVM_DEV_RISCV_AIA_GRP_ADDR, KVM_DEV_RISCV_AIA_ADDR_IMSIC(0), VIRT_IMSIC_S);
  set(KVM_DEV_RISCV_AIA_GRP_CTRL, KVM_DEV_RISCV_AIA_CTRL_INIT);
  const aia = vm.irqchip as RiscvAiaDevice;
  const rng = new RngStreams(opts.seed).stream("device");
  const claims: { id: number; at: number }[] = [];
  const raised = new Map<number, number>();

  vcpu.loadGuest({
    main: function* (): GuestProgram {
      // IMSIC: eidelivery = 1; eie bits for both identities (eie0 holds identities 0..63 on RV64).
      yield op.csrWrite(CSR_SISELECT, 0x70);
      yield op.csrWrite(CSR_SIREG, 1);
      yield op.csrWrite(CSR_SISELECT, 0xc0);
      yield op.csrSet(CSR_SIREG, (1 << EIID_WIRED) | (1 << EIID_MSI) | (1 << EIID_IRQFD));
      // APLIC (MSI mode): domaincfg.IE, sourcecfg[3] = Edge1, target[3] = hart 0 / EIID 10, setienum 3.
      yield op.write(VIRT_APLIC_S + 0x0000, 4, 0x100);
      yield op.write(VIRT_APLIC_S + 0x0004 + 4 * (SOURCE - 1), 4, 4);
      yield op.write(VIRT_APLIC_S + 0x3004 + 4 * (SOURCE - 1), 4, EIID_WIRED);
      yield op.write(VIRT_APLIC_S + 0x1edc, 4, SOURCE);
      yield op.csrSet(CSR_SIE, SEIE);
      yield op.unmask();
      for (;;) yield op.wfi();
    },
    vector: function* (): GuestProgram {
      for (;;) {
        const r = yield op.csrWrite(CSR_STOPEI, 0); // read-and-claim
        const id = r.value >>> 16;
        if (id === 0) return;
        claims.push({ id, at: queue.now });
        yield op.compute(2_000); // the driver's work
      }
    },
  });

  // The device's eventfd becomes an irqfd on a GSI routed as an MSI to the
  // vCPU's IMSIC (KVM_SET_GSI_ROUTING + KVM_IRQFD), as QEMU does for virtio.
  const trigger = new FdTable().eventfd();
  vm.setGsiRouting([{ gsi: GSI_IRQFD, type: KVM_IRQ_ROUTING_MSI, addressLo: VIRT_IMSIC_S, addressHi: 0, data: EIID_IRQFD }]);
  vm.irqfd({ fd: trigger, gsi: GSI_IRQFD });

  // Boot: the guest sets up its IMSIC and APLIC and waits.
  vcpu.run();
  const t0 = queue.now;
  const wireAt = t0 + rng.int(5_000, 50_000);
  const msiAt = t0 + rng.int(5_000, 50_000);
  queue.schedule(wireAt, () => {
    raised.set(EIID_WIRED, queue.now);
    vm.irqLine(SOURCE, 1); // KVM_IRQ_LINE: rising edge on the APLIC input
    vm.irqLine(SOURCE, 0);
  }, undefined);
  queue.schedule(msiAt, () => {
    raised.set(EIID_MSI, queue.now);
    vm.signalMsi({ addressLo: VIRT_IMSIC_S, addressHi: 0, data: EIID_MSI, flags: 0, devid: 0 }); // KVM_SIGNAL_MSI
  }, undefined);
  const irqfdAt = t0 + rng.int(5_000, 50_000);
  queue.schedule(irqfdAt, () => {
    raised.set(EIID_IRQFD, queue.now);
    trigger.signal(); // the device's eventfd: irqfd → MSI route → IMSIC
  }, undefined);
  for (let i = 0; i < 12 && claims.length < 3; i++) {
    if (vcpu.run().reason !== KVM_EXIT_INTR) break;
  }

  const chip = aia.chip(0)!;
  const where = chip.vsFileCpu >= 0 ? `VS-file hgei ${chip.vsFileHgei} on hart ${chip.vsFileCpu}` : "SW-file (trap-and-emulate)";
  const lines = [
    `riscv64 VM, in-kernel AIA mode ${opts.mode ?? "auto"}, host 4 harts x ${aiaHost.nrHgei} guest files; vCPU 0 uses its ${where}`,
    ...claims.map((c) => {
      const how =
        c.id === EIID_WIRED
          ? `APLIC source ${SOURCE} (KVM_IRQ_LINE) -> MSI`
          : c.id === EIID_IRQFD
            ? `eventfd ${trigger.fd} -> irqfd GSI ${GSI_IRQFD} -> MSI route`
            : "KVM_SIGNAL_MSI";
      return `  EIID ${c.id} via ${how}: raised at ${raised.get(c.id) ?? -1} ns, claimed through stopei at ${c.at} ns (+${c.at - (raised.get(c.id) ?? c.at)} ns)`;
    }),
    `  claimed ${claims.length}/3, pending left: ${chip.currentFile?.topId() ?? 0 ? "yes" : "none"}, guest errors: ${tracer.counters.counter("guest-error").value}`,
  ];
  return { summary: lines.join("\n"), tracer };
}
