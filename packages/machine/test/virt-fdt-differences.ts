/**
 * The explicit list of differences allowed between QEMU's device trees (the
 * fixtures: QEMU 7.2 under TCG) and ours (upstream QEMU's tree under KVM,
 * minus the devices irqlab does not model). Each entry says what differs and
 * why, and edits one of the two trees so that what remains must be equal.
 *
 * Kinds:
 * - "unmodelled": a device irqlab does not model (src/board ARM_/RISCV_VIRT_UNMODELLED_NODES);
 * - "tcg-only": QEMU writes it under TCG only (its `kvm_enabled()` branches);
 * - "host": a host-CPU property that differs between TCG's CPU model and KVM's -cpu host;
 * - "qemu-7.2": 7.2 differs from upstream (the fixtures are 7.2, we follow upstream);
 * - "random": QEMU fills it from its RNG.
 */

import { ARM_VIRT_UNMODELLED_NODES, DEFAULT_KVM_RISCV_HART, RISCV_VIRT_UNMODELLED_NODES } from "../src/index.js";
import { bytesOf, cellsOf, moveChild, propOf, removeNodes, removeProps, stringsOf, walk, type TNode } from "./fdt-compare.js";

/** One allowed difference. `apply` edits the trees and returns how many edits it made. */
export interface AllowedDifference {
  readonly kind: "unmodelled" | "tcg-only" | "host" | "qemu-7.2" | "random";
  readonly what: string;
  readonly why: string;
  apply(qemu: TNode, ours: TNode): number;
}

/** "/virtio_mmio@…" style patterns of the UNMODELLED lists. */
function matches(pattern: string, path: string): boolean {
  return pattern.endsWith("@…") ? path.startsWith(pattern.slice(0, -1)) : path === pattern;
}

function unmodelled(list: readonly { readonly node: string; readonly why: string }[]): AllowedDifference[] {
  return list.map((u) => ({
    kind: "unmodelled",
    what: `${u.node} is absent`,
    why: u.why,
    apply: (qemu) => removeNodes(qemu, (path) => matches(u.node, path)),
  }));
}

function setProp(n: TNode, name: string, value: Uint8Array): void {
  const p = n.props.find((q) => q.name === name);
  if (p) p.value = value;
}

const upstreamOnly = (what: string, why: string, apply: (ours: TNode) => number): AllowedDifference => ({
  kind: "qemu-7.2",
  what,
  why,
  apply: (_qemu, ours) => apply(ours),
});

/** arm virt: QEMU 7.2 TCG `-cpu max` fixtures against our KVM `-cpu host` tree. */
export const ARM_VIRT_DIFFERENCES: readonly AllowedDifference[] = [
  ...unmodelled(ARM_VIRT_UNMODELLED_NODES),
  {
    kind: "host",
    what: "/cpus/cpu@N compatible",
    why: 'TCG `-cpu max` reports the Cortex-A57 binding ("arm,cortex-a57"); KVM `-cpu host` is "arm,armv8" (target/arm/kvm.c kvm_arm_get_host_cpu_features)',
    apply: (qemu) => {
      let n = 0;
      for (const { path, node } of walk(qemu)) {
        if (/^\/cpus\/cpu@\d+$/.test(path)) {
          setProp(node, "compatible", stringsOf(["arm,armv8"]));
          n++;
        }
      }
      return n;
    },
  },
  upstreamOnly(
    "/dma-coherent",
    'upstream create_fdt() marks the whole tree dma-coherent ("For QEMU, all DMA is coherent"; commit dda533087a, QEMU 9.1); 7.2 does not',
    (ours) => removeProps(ours, "dma-coherent", (path) => path === "/"),
  ),
  upstreamOnly(
    "/aliases with serial0",
    "upstream create_fdt() adds /aliases and create_uart() /aliases/serial0 (commit 9ed2fb65cc, QEMU 9.1); 7.2 has neither",
    (ours) => removeNodes(ours, (path) => path === "/aliases"),
  ),
];

/** riscv virt: QEMU 7.2 TCG fixtures against our KVM tree. */
export const RISCV_VIRT_DIFFERENCES: readonly AllowedDifference[] = [
  ...unmodelled(RISCV_VIRT_UNMODELLED_NODES),
  {
    kind: "tcg-only",
    what: "M-level IMSIC /soc/imsics@24000000",
    why: "create_fdt_imsic() writes the M-level IMSIC only when !kvm_enabled(): a KVM guest runs in VS-mode",
    apply: (qemu) => removeNodes(qemu, (path) => path === "/soc/imsics@24000000"),
  },
  {
    kind: "tcg-only",
    what: "M-level APLIC(s) /soc/aplic@c000000 (+ 0x8000 per socket)",
    why: "create_fdt_socket_aplic() writes the M-level (root) APLIC only when !kvm_enabled(); under KVM the S-level APLIC is the root domain",
    apply: (qemu) => removeNodes(qemu, (path) => /^\/soc\/aplic@c[0-9a-f]{6}$/.test(path)),
  },
  {
    kind: "tcg-only",
    what: "CLINT /soc/clint@…",
    why: "create_fdt_sockets() writes the CLINT/ACLINT only under TCG; under KVM the timer is SBI/Sstc and IPIs are SBI",
    apply: (qemu) => removeNodes(qemu, (path) => path.startsWith("/soc/clint@")),
  },
  {
    kind: "tcg-only",
    what: "PLIC M-mode contexts in interrupts-extended",
    why: "create_fdt_socket_plic() gives each hart an M and an S context under TCG, only the S context (IRQ_S_EXT) under KVM",
    apply: (qemu) => {
      let n = 0;
      for (const { path, node } of walk(qemu)) {
        const v = propOf(node, "interrupts-extended");
        if (!path.startsWith("/soc/plic@") || !v) continue;
        const c = cellsOf(v);
        setProp(node, "interrupts-extended", bytesOf(c.filter((_, i) => Math.floor(i / 2) % 2 === 1)));
        n++;
      }
      return n;
    },
  },
  {
    kind: "tcg-only",
    what: "/pmu riscv,event-to-mhpmcounters counter masks",
    why:
      "the OpenSBI event map's counter masks come from the TCG PMU (pmu_mask); under KVM pmu_avail_ctrs is 0. " +
      "7.2 also wrote a 20-cell array (5 zero cells) where upstream writes 15",
    apply: (qemu) => {
      const pmu = qemu.children.find((c) => c.name === "pmu");
      const v = pmu && propOf(pmu, "riscv,event-to-mhpmcounters");
      if (!pmu || !v) return 0;
      const c = cellsOf(v).slice(0, 15);
      const fixed = [1, 4, 0, 0, 0]; // cycles → bit 0, instret → bit 2, the rest programmable only
      setProp(pmu, "riscv,event-to-mhpmcounters", bytesOf(c.map((x, i) => (i % 3 === 2 ? fixed[Math.floor(i / 3)]! : x))));
      return 1;
    },
  },
  {
    kind: "host",
    what: "/cpus/cpu@N riscv,isa and mmu-type",
    why: "TCG's default rv64 CPU has H, Smaia, Zba/Zbb/… and Sv48 per QEMU 7.2; under KVM they are the host hart's (irqlab: DEFAULT_KVM_RISCV_HART)",
    apply: (qemu) => {
      let n = 0;
      for (const { path, node } of walk(qemu)) {
        if (!/^\/cpus\/cpu@\d+$/.test(path)) continue;
        setProp(node, "riscv,isa", stringsOf([DEFAULT_KVM_RISCV_HART.isa]));
        setProp(node, "mmu-type", stringsOf([DEFAULT_KVM_RISCV_HART.mmuType ?? ""]));
        n++;
      }
      return n;
    },
  },
  {
    kind: "random",
    what: "/chosen/rng-seed value",
    why: "QEMU fills it from qemu_guest_getrandom_nofail(); ours comes from the injected randomBytes source. Only the length is compared",
    apply: (qemu, ours) => {
      let n = 0;
      for (const t of [qemu, ours]) {
        const chosen = t.children.find((c) => c.name === "chosen");
        const v = chosen && propOf(chosen, "rng-seed");
        if (chosen && v) {
          setProp(chosen, "rng-seed", new Uint8Array(v.length));
          n++;
        }
      }
      return n;
    },
  },
  {
    kind: "qemu-7.2",
    what: "imsics@ / aplic@ / plic@ node names",
    why: 'upstream names the interrupt controllers under /soc "interrupt-controller@<addr>" as the DT schema wants (IMSIC e8ad5817b2 and APLIC 29390fdbc1, QEMU 9.1; PLIC c50dbdc750, 2026-06); 7.2 used imsics@, aplic@, plic@',
    apply: (qemu) => {
      const soc = qemu.children.find((c) => c.name === "soc");
      let n = 0;
      for (const c of soc?.children ?? []) {
        const m = /^(imsics|aplic|plic)@(.*)$/.exec(c.name);
        if (m) {
          c.name = `interrupt-controller@${m[2]!}`;
          n++;
        }
      }
      return n;
    },
  },
  {
    kind: "qemu-7.2",
    what: 'IMSIC/APLIC compatible gains "qemu,imsics" / "qemu,aplic"',
    why: "upstream writes the implementation-specific compatible first, as the riscv,imsics / riscv,aplic DT bindings require (8fb0bb5e8a and its APLIC twin, QEMU 9.1); 7.2 wrote only the generic one",
    apply: (qemu) => {
      let n = 0;
      for (const { node } of walk(qemu)) {
        const v = propOf(node, "compatible");
        const s = v && new TextDecoder().decode(v);
        if (s === "riscv,imsics\0" || s === "riscv,aplic\0") {
          setProp(node, "compatible", stringsOf([`qemu,${s.slice(6, -1)}`, s.slice(0, -1)]));
          n++;
        }
      }
      return n;
    },
  },
  {
    kind: "qemu-7.2",
    what: "IMSIC riscv,ipi-id",
    why: "7.2 wrote riscv,ipi-id = <1> (VIRT_IRQCHIP_IPI_MSI); upstream removed it as redundant (0c83343ba3, QEMU 8.0)",
    apply: (qemu) => removeProps(qemu, "riscv,ipi-id"),
  },
  {
    kind: "qemu-7.2",
    what: "PLIC riscv,ndev",
    why: "7.2 wrote VIRTIO_NDEV (96); upstream writes VIRT_IRQCHIP_NUM_SOURCES − 1 = 95, the highest source number (59f74489cf, QEMU 8.0)",
    apply: (qemu) => {
      let n = 0;
      for (const { path, node } of walk(qemu)) {
        if (/^\/soc\/(plic|interrupt-controller)@c/.test(path) && propOf(node, "riscv,ndev")) {
          setProp(node, "riscv,ndev", bytesOf([95]));
          n++;
        }
      }
      return n;
    },
  },
  upstreamOnly(
    "APLIC #address-cells = <0>",
    "upstream create_fdt_one_aplic() writes FDT_APLIC_ADDR_CELLS, which an interrupt-map parent needs (190e0ae629, QEMU 9.1); 7.2 did not",
    (ours) => removeProps(ours, "#address-cells", (_p, n) => new TextDecoder().decode(propOf(n, "compatible")).includes("riscv,aplic")),
  ),
  upstreamOnly(
    "/cpus/cpu@N riscv,isa-base and riscv,isa-extensions",
    "upstream riscv_isa_write_fdt() adds the new ISA properties (1c8e491c45, QEMU 9.0); 7.2 wrote riscv,isa only",
    (ours) => removeProps(ours, "riscv,isa-base") + removeProps(ours, "riscv,isa-extensions"),
  ),
  upstreamOnly(
    "/aliases with serial0",
    "upstream create_fdt() adds /aliases and create_fdt_uart() /aliases/serial0; 7.2 has neither",
    (ours) => removeNodes(ours, (path) => path === "/aliases"),
  ),
  {
    kind: "qemu-7.2",
    what: "order of /pmu, /chosen, /soc/pci@30000000 and /chosen/rng-seed",
    why:
      "upstream create_fdt() creates /soc/pci@…, /chosen with its rng-seed and /pmu before finalize_fdt() runs at " +
      "machine-done (so libfdt, which inserts new nodes and properties first, leaves them after the later ones); 7.2 " +
      "created the nodes in one pass and set rng-seed last",
    apply: (qemu) => {
      const chosen = qemu.children.find((c) => c.name === "chosen");
      const seed = chosen?.props.find((p) => p.name === "rng-seed");
      if (chosen && seed) chosen.props.push(...chosen.props.splice(chosen.props.indexOf(seed), 1));
      return moveChild(qemu, "/", "chosen", "soc") + moveChild(qemu, "/", "pmu", "chosen") + moveChild(qemu, "/soc", "pci@30000000", undefined);
    },
  },
];
