/**
 * The images a command line can name as `-kernel irqlab:NAME`.
 */

import type { GuestArch, GuestImage } from "../guest-image.js";
import { helloImage } from "./hello.js";
import { hotplugImage } from "./hotplug.js";
import { panicTestImage } from "./panic-test.js";
import { smpHelloImage } from "./smp-hello.js";
import { sbiIpiImage } from "./sbi-ipi.js";
import { imsicIpiImage } from "./imsic-ipi.js";
import { idleImage } from "./idle.js";
import { gicv3ActiveImage, gicv3IpiImage } from "./gicv3-ipi.js";
import { microBenchImage } from "./micro-bench.js";
import { itsTriggerImage } from "./its-trigger.js";
import { virtioSharedVectorImage } from "./virtio-shared-vector.js";
import { stormImage } from "./storm.js";

/** One entry of {@link guestImages}. */
export interface GuestImageEntry {
  /** One line for `-kernel help` style listings. */
  description: string;
  /** The architectures the image boots on. */
  arch: GuestArch[];
  /** A fresh image (each VM needs its own: images keep per-boot state). */
  create(): GuestImage;
}

/** The bootable images by name. */
export const guestImages: Record<string, GuestImageEntry> = Object.freeze({
  "its-trigger": {
    description: "kvm-unit-tests' gic its-trigger: MAPD/MAPC/MAPTI through the ITS command queue, INT, LPI disable with INV, INVALL, MAPD V=0; PASS/FAIL lines and SUMMARY",
    arch: ["aarch64"],
    create: () => itsTriggerImage(),
  },
  "virtio-shared-vector": {
    description:
      "seed 001's guest: an old virtio driver programs one MSI-X message into entries 1-6 of -device vfio-pci, takes the queue interrupts through the ITS, reboots with requests in flight into firmware that maps no LPI and counts what still arrives",
    arch: ["aarch64"],
    create: () => virtioSharedVectorImage(),
  },
  storm: {
    description:
      "every MSI-X vector of every -device x-irqlab-msix-test fires for several rounds through the ITS (arm64) or into the harts' IMSIC files (riscv64), spread over the CPUs; the guest counts each interrupt and prints the totals",
    arch: ["aarch64", "riscv64"],
    create: () => stormImage(),
  },
  hello: {
    description: 'boot from the device tree, print the architecture, CPU count and RAM size and "Hello from irqlab", power off',
    arch: ["aarch64", "riscv64"],
    create: () => helloImage(),
  },
  "smp-hello": {
    description: "bring every CPU of /cpus online (PSCI CPU_ON / SBI HSM hart_start), each prints under a spinlock in guest RAM, power off",
    arch: ["aarch64", "riscv64"],
    create: () => smpHelloImage(),
  },
  hotplug: {
    description:
      "arm64 CPU hotplug through the irqlab,cpu-hotplug node (-M virt,x-cpu-hotplug=precreate|naive): bring hot-added CPUs up with PSCI CPU_ON and send them an IPI; on an eject request CPU_OFF, then eject; _OST for each",
    arch: ["aarch64"],
    create: () => hotplugImage(),
  },
  "panic-test": {
    description: 'boot, then panic: print "Kernel panic - not syncing: ..." and power off (SBI reason "system failure" on riscv64)',
    arch: ["aarch64", "riscv64"],
    create: () => panicTestImage(),
  },
  "sbi-ipi": {
    description: "kvm-unit-tests' SBI IPI tests (riscv/sbi.c check_ipi): send_ipi to a random hart, two harts, broadcast, bad masks; PASS/FAIL lines and SUMMARY",
    arch: ["riscv64"],
    create: () => sbiIpiImage(),
  },
  "imsic-ipi": {
    description: "IPIs as Linux sends them on AIA: identity 1 written into each hart's IMSIC file, the stopei claim loop, round trips timed with rdtime",
    arch: ["riscv64"],
    create: () => imsicIpiImage(),
  },
  idle: {
    description:
      "Linux-like idle loop (WFI with interrupts off, then on): the console UART's interrupt (PL011 SPI through the GICv3; NS16550A APLIC source as an MSI into the IMSIC) sends a line by interrupt-driven TX; IPIs (SGI 0; IMSIC identity 1) wake the idle CPUs; prints the counts",
    arch: ["aarch64", "riscv64"],
    create: () => idleImage(),
  },
  "micro-bench": {
    description: "kvm-unit-tests arm/micro-bench.c (-smp 2): hyp_call, mmio_read_user, mmio_read_vgic, eoi, ipi, lpi, timer_10ms timed with CNTVCT_EL0, its table of total and average ns",
    arch: ["aarch64"],
    create: () => microBenchImage(),
  },
  "gicv3-ipi": {
    description: "kvm-unit-tests arm/gic.c ipi (-smp 2 or more): SGIs to self, a target list and a broadcast; PASS/FAIL lines, SUMMARY, EXIT",
    arch: ["aarch64"],
    create: () => gicv3IpiImage(),
  },
  "gicv3-active": {
    description: "kvm-unit-tests arm/gic.c active: an SGI to self whose handler clears its active state with GICR_ICACTIVER0; PASS/FAIL, SUMMARY, EXIT",
    arch: ["aarch64"],
    create: () => gicv3ActiveImage(),
  },
});

/** The prefix of an image name on a command line. */
export const GUEST_IMAGE_PREFIX = "irqlab:";

/** The outcome of {@link lookupGuestImage}. */
export type GuestImageLookup =
  | { readonly ok: true; readonly name: string; readonly entry: GuestImageEntry }
  | { readonly ok: false; readonly message: string };

/**
 * Finds the image a `-kernel` value names: "irqlab:NAME" (or a bare NAME),
 * optionally for one architecture. The failure message names the bad part
 * and lists what exists.
 */
export function lookupGuestImage(spec: string, arch?: GuestArch): GuestImageLookup {
  const name = spec.startsWith(GUEST_IMAGE_PREFIX) ? spec.slice(GUEST_IMAGE_PREFIX.length) : spec;
  const known = Object.keys(guestImages).sort();
  const entry = Object.hasOwn(guestImages, name) ? guestImages[name] : undefined;
  if (entry === undefined) {
    return { ok: false, message: `unknown guest image '${name}' (known: ${known.map((k) => GUEST_IMAGE_PREFIX + k).join(", ")})` };
  }
  if (arch !== undefined && !entry.arch.includes(arch)) {
    return { ok: false, message: `guest image '${name}' does not boot on ${arch} (it boots on ${entry.arch.join(", ")})` };
  }
  return { ok: true, name, entry };
}
