/**
 * Test kit: two trees of the shape QEMU's virt machines boot a guest with,
 * written with FdtWriter — an arm64 one with a GICv3 and its ITS, a riscv64
 * one with an IMSIC and an APLIC (AIA). They use the properties and phandle
 * links the real ones do (compare test/fixtures/*.dts), and are clean under
 * every dtc check: no warning at all.
 */

import { FdtWriter } from "../src/index.js";

/** Phandles of the arm64 tree, as QEMU numbers them (from 0x8000). */
export const ARM_PHANDLES = { clock: 0x8000, gic: 0x8001, its: 0x8002 } as const;

/** An arm64 virt-like tree: 2 CPUs, 128 MiB at 0x40000000, GICv3 + ITS, PL011, timer, PSCI. */
export function armVirtTree(): Uint8Array {
  const w = new FdtWriter({ bootCpuidPhys: 0 });
  w.addMemReserve(0x4800_0000, 0x10_0000);
  w.beginNode("");
  w.propertyU32("interrupt-parent", ARM_PHANDLES.gic);
  w.propertyString("model", "linux,dummy-virt");
  w.propertyU32("#size-cells", 2);
  w.propertyU32("#address-cells", 2);
  w.propertyString("compatible", "linux,dummy-virt");

  w.beginNode("psci");
  w.propertyStringList("compatible", ["arm,psci-1.0", "arm,psci-0.2", "arm,psci"]);
  w.propertyString("method", "hvc");
  w.endNode();

  w.beginNode("memory@40000000");
  w.propertyString("device_type", "memory");
  w.propertyArrayU64("reg", [0x4000_0000, 0x800_0000]);
  w.endNode();

  w.beginNode("apb-pclk");
  w.propertyU32("phandle", ARM_PHANDLES.clock);
  w.propertyString("clock-output-names", "clk24mhz");
  w.propertyU32("clock-frequency", 24_000_000);
  w.propertyU32("#clock-cells", 0);
  w.propertyString("compatible", "fixed-clock");
  w.endNode();

  w.beginNode("intc@8000000");
  w.propertyU32("phandle", ARM_PHANDLES.gic);
  // GICD (64 KiB) then one redistributor region for 2 vCPUs (2 x 128 KiB).
  w.propertyArrayU64("reg", [0x800_0000, 0x1_0000, 0x80a_0000, 0x4_0000]);
  w.propertyU32("#redistributor-regions", 1);
  w.propertyString("compatible", "arm,gic-v3");
  w.propertyNull("ranges");
  w.propertyU32("#size-cells", 2);
  w.propertyU32("#address-cells", 2);
  w.propertyNull("interrupt-controller");
  w.propertyU32("#interrupt-cells", 3);
  w.beginNode("its@8080000");
  w.propertyU32("phandle", ARM_PHANDLES.its);
  w.propertyArrayU64("reg", [0x808_0000, 0x2_0000]);
  w.propertyU32("#msi-cells", 1);
  w.propertyNull("msi-controller");
  w.propertyString("compatible", "arm,gic-v3-its");
  w.endNode();
  w.endNode();

  w.beginNode("pl011@9000000");
  w.propertyStringList("clock-names", ["uartclk", "apb_pclk"]);
  w.propertyArrayU32("clocks", [ARM_PHANDLES.clock, ARM_PHANDLES.clock]);
  w.propertyArrayU32("interrupts", [0, 1, 4]); // SPI 1, level high
  w.propertyArrayU64("reg", [0x900_0000, 0x1000]);
  w.propertyStringList("compatible", ["arm,pl011", "arm,primecell"]);
  w.endNode();

  w.beginNode("timer");
  w.propertyArrayU32("interrupts", [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4]);
  w.propertyNull("always-on");
  w.propertyString("compatible", "arm,armv8-timer");
  w.endNode();

  w.beginNode("cpus");
  w.propertyU32("#size-cells", 0);
  w.propertyU32("#address-cells", 1);
  for (const id of [0, 1]) {
    w.beginNode(`cpu@${id}`);
    w.propertyU32("reg", id);
    w.propertyString("enable-method", "psci");
    w.propertyString("compatible", "arm,cortex-a57");
    w.propertyString("device_type", "cpu");
    w.endNode();
  }
  w.endNode();

  w.beginNode("chosen");
  w.propertyString("bootargs", "console=ttyAMA0 irqchip.gicv3_nolpi=0");
  w.propertyString("stdout-path", "/pl011@9000000");
  w.propertyArrayU64("linux,initrd-start", [0x4800_0000]);
  w.endNode();

  w.beginNode("aliases");
  w.propertyString("serial0", "/pl011@9000000");
  w.endNode();
  w.endNode();
  return w.finish();
}

/** A riscv64 virt-like tree with AIA: 2 harts, IMSIC (S-level files), APLIC in MSI mode, UART. */
export function riscvAiaTree(): Uint8Array {
  const w = new FdtWriter({ bootCpuidPhys: 0 });
  w.beginNode("");
  w.propertyU32("#address-cells", 2);
  w.propertyU32("#size-cells", 2);
  w.propertyString("compatible", "riscv-virtio");
  w.propertyString("model", "riscv-virtio,qemu");

  w.beginNode("cpus");
  w.propertyU32("#address-cells", 1);
  w.propertyU32("#size-cells", 0);
  w.propertyU32("timebase-frequency", 10_000_000);
  for (const hart of [0, 1]) {
    w.beginNode(`cpu@${hart}`);
    w.propertyString("device_type", "cpu");
    w.propertyU32("reg", hart);
    w.propertyString("status", "okay");
    w.propertyString("compatible", "riscv");
    w.propertyString("riscv,isa", "rv64imafdch_zicsr_zifencei_smaia_ssaia");
    w.propertyString("mmu-type", "riscv,sv57");
    w.beginNode("interrupt-controller");
    w.propertyU32("phandle", hart + 1);
    w.propertyU32("#address-cells", 0);
    w.propertyU32("#interrupt-cells", 1);
    w.propertyNull("interrupt-controller");
    w.propertyString("compatible", "riscv,cpu-intc");
    w.endNode();
    w.endNode();
  }
  w.endNode();

  w.beginNode("memory@80000000");
  w.propertyString("device_type", "memory");
  w.propertyArrayU64("reg", [0x8000_0000, 0x800_0000]);
  w.endNode();

  w.beginNode("soc");
  w.propertyU32("#address-cells", 2);
  w.propertyU32("#size-cells", 2);
  w.propertyString("compatible", "simple-bus");
  w.propertyNull("ranges");

  w.beginNode("imsics@28000000");
  w.propertyU32("phandle", 3);
  w.propertyU32("riscv,num-ids", 255);
  w.propertyArrayU64("reg", [0x2800_0000, 0x2000]);
  w.propertyArrayU32("interrupts-extended", [1, 9, 2, 9]); // S-level external interrupt of each hart
  w.propertyNull("msi-controller");
  w.propertyU32("#address-cells", 0);
  w.propertyU32("#interrupt-cells", 0);
  w.propertyNull("interrupt-controller");
  w.propertyStringList("compatible", ["qemu,imsics", "riscv,imsics"]);
  w.endNode();

  w.beginNode("aplic@d000000");
  w.propertyU32("phandle", 4);
  w.propertyU32("riscv,num-sources", 96);
  w.propertyArrayU64("reg", [0xd00_0000, 0x8000]);
  w.propertyU32("msi-parent", 3);
  w.propertyU32("#address-cells", 0);
  w.propertyU32("#interrupt-cells", 2);
  w.propertyNull("interrupt-controller");
  w.propertyString("compatible", "riscv,aplic");
  w.endNode();

  w.beginNode("serial@10000000");
  w.propertyU32("interrupt-parent", 4);
  w.propertyArrayU32("interrupts", [10, 4]);
  w.propertyU32("clock-frequency", 0x38_4000);
  w.propertyArrayU64("reg", [0x1000_0000, 0x100]);
  w.propertyString("compatible", "ns16550a");
  w.endNode();
  w.endNode();

  w.beginNode("chosen");
  w.propertyString("stdout-path", "/soc/serial@10000000");
  w.endNode();
  w.endNode();
  return w.finish();
}
