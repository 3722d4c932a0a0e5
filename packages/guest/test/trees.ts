/**
 * QEMU-shaped device trees for the tests, written with FdtWriter: an arm64
 * `virt` tree with a GICv3 and an ITS (the shape of hw/arm/virt.c under KVM)
 * and a riscv64 `virt` tree with an APLIC and IMSICs (hw/riscv/virt.c,
 * aia=aplic-imsic under KVM: supervisor-level nodes only). Options knock
 * parts out or change them so the tests can build malformed trees too.
 */

import { FdtWriter } from "@irqlab/fdt";

const MiB = 1024 * 1024;

/** Options of {@link armVirtTree}. */
export interface ArmTreeOptions {
  readonly cpus?: number;
  readonly ramBase?: number;
  readonly ramSize?: number;
  readonly its?: boolean;
  /** /chosen stdout-path; null leaves the property out. */
  readonly stdoutPath?: string | null;
  /** false leaves /chosen out altogether. */
  readonly chosen?: boolean;
  /** PSCI method; null leaves the node out. */
  readonly psciMethod?: string | null;
  /** Only arm,psci (0.1) with its own function ids. */
  readonly psci01?: boolean;
  readonly gic?: boolean;
  readonly memory?: boolean;
  /** The CPUs' compatible (default arm,cortex-a57). */
  readonly cpuCompatible?: string;
  /** Two redistributor regions instead of one. */
  readonly twoRedistRegions?: boolean;
  /** A raw reg for the PL011 (default <0 0x9000000 0 0x1000>). */
  readonly uartReg?: readonly number[];
  /** Also write /memreserve/ entries. */
  readonly memReserve?: readonly (readonly [number, number])[];
}

const GIC_PH = 0x8003;
const ITS_PH = 0x8004;
const CLK_PH = 0x8000;

/** An arm64 `virt` tree (see the module comment). */
export function armVirtTree(o: ArmTreeOptions = {}): Uint8Array {
  const cpus = o.cpus ?? 4;
  const ramBase = o.ramBase ?? 0x4000_0000;
  const ramSize = o.ramSize ?? 128 * MiB;
  const w = new FdtWriter();
  for (const [a, s] of o.memReserve ?? []) w.addMemReserve(a, s);
  w.beginNode("");
  if (o.gic !== false) w.propertyU32("interrupt-parent", GIC_PH);
  w.propertyString("model", "linux,dummy-virt");
  w.propertyU32("#size-cells", 2);
  w.propertyU32("#address-cells", 2);
  w.propertyString("compatible", "linux,dummy-virt");

  if (o.psciMethod !== null) {
    w.beginNode("psci");
    w.propertyU32("migrate", 0xc400_0005);
    w.propertyU32("cpu_on", o.psci01 === true ? 0x9500_0003 : 0xc400_0003);
    w.propertyU32("cpu_off", o.psci01 === true ? 0x9500_0002 : 0x8400_0002);
    w.propertyU32("cpu_suspend", 0xc400_0001);
    w.propertyString("method", o.psciMethod ?? "hvc");
    w.propertyStringList("compatible", o.psci01 === true ? ["arm,psci"] : ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]);
    w.endNode();
  }

  if (o.memory !== false) {
    w.beginNode(`memory@${ramBase.toString(16)}`);
    w.propertyArrayU64("reg", [ramBase, ramSize]);
    w.propertyString("device_type", "memory");
    w.endNode();
  }

  w.beginNode("pcie@10000000");
  w.propertyArrayU32("interrupt-map-mask", [0x1800, 0, 0, 7]);
  w.propertyU32("#interrupt-cells", 1);
  w.propertyArrayU32("ranges", [
    0x0100_0000, 0, 0, 0, 0x3eff_0000, 0, 0x1_0000,
    0x0200_0000, 0, 0x1000_0000, 0, 0x1000_0000, 0, 0x2eff_0000,
    0x4300_0000, 0x80, 0, 0x80, 0, 0x80, 0,
  ]);
  w.propertyArrayU32("reg", [0x40, 0x1000_0000, 0, 0x1000_0000]);
  if (o.its !== false) w.propertyArrayU32("msi-map", [0, ITS_PH, 0, 0x1_0000]);
  w.propertyNull("dma-coherent");
  w.propertyArrayU32("bus-range", [0, 0xff]);
  w.propertyU32("linux,pci-domain", 0);
  w.propertyU32("#size-cells", 2);
  w.propertyU32("#address-cells", 3);
  w.propertyString("device_type", "pci");
  w.propertyString("compatible", "pci-host-ecam-generic");
  w.endNode();

  w.beginNode("pl011@9000000");
  w.propertyStringList("clock-names", ["uartclk", "apb_pclk"]);
  w.propertyArrayU32("clocks", [CLK_PH, CLK_PH]);
  w.propertyArrayU32("interrupts", [0, 1, 4]);
  w.propertyArrayU32("reg", o.uartReg ?? [0, 0x0900_0000, 0, 0x1000]);
  w.propertyStringList("compatible", ["arm,pl011", "arm,primecell"]);
  w.endNode();

  if (o.gic !== false) {
    w.beginNode("intc@8000000");
    w.propertyU32("phandle", GIC_PH);
    const redist = o.twoRedistRegions === true ? [0, 0x080a_0000, 0, 0xf6_0000, 0x40, 0x1000_0000, 0, 0x400_0000] : [0, 0x080a_0000, 0, 0xf6_0000];
    w.propertyArrayU32("reg", [0, 0x0800_0000, 0, 0x1_0000, ...redist]);
    w.propertyU32("#redistributor-regions", o.twoRedistRegions === true ? 2 : 1);
    w.propertyString("compatible", "arm,gic-v3");
    w.propertyNull("ranges");
    w.propertyU32("#size-cells", 2);
    w.propertyU32("#address-cells", 2);
    w.propertyNull("interrupt-controller");
    w.propertyU32("#interrupt-cells", 3);
    if (o.its !== false) {
      w.beginNode("its@8080000");
      w.propertyU32("phandle", ITS_PH);
      w.propertyArrayU32("reg", [0, 0x0808_0000, 0, 0x2_0000]);
      w.propertyU32("#msi-cells", 1);
      w.propertyNull("msi-controller");
      w.propertyString("compatible", "arm,gic-v3-its");
      w.endNode();
    }
    w.endNode();
  }

  w.beginNode("cpus");
  w.propertyU32("#size-cells", 0);
  w.propertyU32("#address-cells", 1);
  for (let i = 0; i < cpus; i++) {
    w.beginNode(`cpu@${i}`);
    w.propertyU32("phandle", 0x8100 + i);
    w.propertyU32("reg", i);
    if (cpus > 1) w.propertyString("enable-method", "psci");
    w.propertyString("compatible", o.cpuCompatible ?? "arm,cortex-a57");
    w.propertyString("device_type", "cpu");
    w.endNode();
  }
  w.endNode();

  w.beginNode("apb-pclk");
  w.propertyU32("phandle", CLK_PH);
  w.propertyU32("clock-frequency", 24_000_000);
  w.propertyU32("#clock-cells", 0);
  w.propertyString("compatible", "fixed-clock");
  w.endNode();

  if (o.chosen !== false) {
    w.beginNode("chosen");
    if (o.stdoutPath !== null) w.propertyString("stdout-path", o.stdoutPath ?? "/pl011@9000000");
    w.endNode();
  }
  w.endNode();
  return w.finish();
}

/** Options of {@link riscvVirtTree}. */
export interface RiscvTreeOptions {
  readonly harts?: number;
  readonly ramBase?: number;
  readonly ramSize?: number;
  /** "aplic-imsic" (MSI delivery, default) or "aplic" (direct delivery). */
  readonly aia?: "aplic-imsic" | "aplic";
  /** /chosen stdout-path; null leaves it out. */
  readonly stdoutPath?: string | null;
  /** reg-shift and reg-io-width of the UART (default none). */
  readonly uartRegShift?: number;
  readonly uartRegIoWidth?: number;
  /** riscv,num-ids of the IMSIC (default 255). */
  readonly imsicNumIds?: number;
  /** A 32-bit "soc" bus that maps child addresses 0.. to 0xc000000.. (tests translation). */
  readonly offsetBus?: boolean;
}

const INTC_PH = 0x10;
const IMSIC_PH = 0x40;
const APLIC_PH = 0x41;

/** A riscv64 `virt` tree (see the module comment). */
export function riscvVirtTree(o: RiscvTreeOptions = {}): Uint8Array {
  const harts = o.harts ?? 4;
  const ramBase = o.ramBase ?? 0x8000_0000;
  const ramSize = o.ramSize ?? 128 * MiB;
  const aia = o.aia ?? "aplic-imsic";
  const w = new FdtWriter();
  w.beginNode("");
  w.propertyU32("#address-cells", 2);
  w.propertyU32("#size-cells", 2);
  w.propertyString("compatible", "riscv-virtio");
  w.propertyString("model", "riscv-virtio,qemu");

  w.beginNode("chosen");
  if (o.stdoutPath !== null) w.propertyString("stdout-path", o.stdoutPath ?? "/soc/serial@10000000");
  w.endNode();

  w.beginNode(`memory@${ramBase.toString(16)}`);
  w.propertyString("device_type", "memory");
  w.propertyArrayU64("reg", [ramBase, ramSize]);
  w.endNode();

  w.beginNode("cpus");
  w.propertyU32("#address-cells", 1);
  w.propertyU32("#size-cells", 0);
  w.propertyU32("timebase-frequency", 10_000_000);
  for (let h = 0; h < harts; h++) {
    w.beginNode(`cpu@${h}`);
    w.propertyU32("phandle", 0x20 + h);
    w.propertyString("device_type", "cpu");
    w.propertyU32("reg", h);
    w.propertyString("status", "okay");
    w.propertyString("compatible", "riscv");
    w.propertyString("riscv,isa", "rv64imafdch_zicsr_zifencei_smaia_ssaia");
    w.propertyString("mmu-type", "riscv,sv48");
    w.beginNode("interrupt-controller");
    w.propertyU32("#interrupt-cells", 1);
    w.propertyNull("interrupt-controller");
    w.propertyString("compatible", "riscv,cpu-intc");
    w.propertyU32("phandle", INTC_PH + h);
    w.endNode();
    w.endNode();
  }
  w.endNode();

  w.beginNode("soc");
  if (o.offsetBus === true) {
    // Children use 32-bit addresses relative to 0xc000000.
    w.propertyU32("#address-cells", 1);
    w.propertyU32("#size-cells", 1);
    w.propertyArrayU32("ranges", [0, 0, 0x0c00_0000, 0x2000_0000]);
  } else {
    w.propertyU32("#address-cells", 2);
    w.propertyU32("#size-cells", 2);
    w.propertyNull("ranges");
  }
  w.propertyString("compatible", "simple-bus");
  const reg = (base: number, size: number): number[] => (o.offsetBus === true ? [base - 0x0c00_0000, size] : [0, base, 0, size]);

  w.beginNode("serial@10000000");
  w.propertyU32("interrupt-parent", APLIC_PH);
  w.propertyArrayU32("interrupts", [10, 4]);
  w.propertyU32("clock-frequency", 3_686_400);
  if (o.uartRegShift !== undefined) w.propertyU32("reg-shift", o.uartRegShift);
  if (o.uartRegIoWidth !== undefined) w.propertyU32("reg-io-width", o.uartRegIoWidth);
  w.propertyArrayU32("reg", reg(0x1000_0000, 0x100));
  w.propertyString("compatible", "ns16550a");
  w.endNode();

  if (o.offsetBus !== true) {
    w.beginNode("pci@30000000");
    w.propertyU32("#address-cells", 3);
    w.propertyU32("#interrupt-cells", 1);
    w.propertyU32("#size-cells", 2);
    w.propertyString("compatible", "pci-host-ecam-generic");
    w.propertyString("device_type", "pci");
    w.propertyU32("linux,pci-domain", 0);
    w.propertyArrayU32("bus-range", [0, 0xff]);
    w.propertyNull("dma-coherent");
    if (aia === "aplic-imsic") w.propertyU32("msi-parent", IMSIC_PH);
    w.propertyArrayU32("reg", [0, 0x3000_0000, 0, 0x1000_0000]);
    w.propertyArrayU32("ranges", [
      0x0100_0000, 0, 0, 0, 0x0300_0000, 0, 0x1_0000,
      0x0200_0000, 0, 0x4000_0000, 0, 0x4000_0000, 0, 0x4000_0000,
      0x0300_0000, 4, 0, 4, 0, 4, 0,
    ]);
    w.endNode();
  }

  if (aia === "aplic-imsic") {
    w.beginNode("interrupt-controller@28000000");
    w.propertyStringList("compatible", ["qemu,imsics", "riscv,imsics"]);
    w.propertyU32("#interrupt-cells", 0);
    w.propertyNull("interrupt-controller");
    w.propertyNull("msi-controller");
    w.propertyArrayU32("interrupts-extended", Array.from({ length: harts }, (_, h) => [INTC_PH + h, 9]).flat());
    w.propertyArrayU32("reg", reg(0x2800_0000, 0x1000 * harts));
    w.propertyU32("riscv,num-ids", o.imsicNumIds ?? 255);
    w.propertyU32("phandle", IMSIC_PH);
    w.endNode();
  }

  w.beginNode("interrupt-controller@d000000");
  w.propertyStringList("compatible", ["qemu,aplic", "riscv,aplic"]);
  w.propertyU32("#address-cells", 0);
  w.propertyU32("#interrupt-cells", 2);
  w.propertyNull("interrupt-controller");
  if (aia === "aplic-imsic") w.propertyU32("msi-parent", IMSIC_PH);
  else w.propertyArrayU32("interrupts-extended", Array.from({ length: harts }, (_, h) => [INTC_PH + h, 9]).flat());
  w.propertyArrayU32("reg", reg(0x0d00_0000, 0x8000));
  w.propertyU32("riscv,num-sources", 96);
  w.propertyU32("phandle", APLIC_PH);
  w.endNode();

  w.endNode(); // soc
  w.endNode();
  return w.finish();
}

/** A copy of `blob` with the bytes at `offset` replaced. */
export function patched(blob: Uint8Array, offset: number, bytes: readonly number[]): Uint8Array {
  const out = blob.slice();
  out.set(bytes, offset);
  return out;
}
