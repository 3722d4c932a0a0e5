/**
 * Guest traffic on an APLIC in every AIA profile: a root M-level domain and
 * an S-level child, both in direct (IDC) or both in MSI delivery mode, with
 * loads and stores of every width at every register kind (domaincfg,
 * sourcecfg, msiaddrcfg, setip/in_clrip/setie/clrie and their *num forms,
 * genmsi, target, IDC registers, the reserved words between them and the
 * region's edges), and wire changes of random sources in between.
 *
 * Invariants (mmio-access.ts, plus AdvPLIC.adoc §4.5: only naturally aligned
 * 32-bit accesses exist): every access that is not 4 bytes wide is counted as
 * a guest error.
 */

import {
  APLIC_CLRIE_BASE,
  APLIC_CLRIENUM,
  APLIC_CLRIPNUM,
  APLIC_DOMAINCFG,
  APLIC_GENMSI,
  APLIC_IDC_BASE,
  APLIC_IN_CLRIP_BASE,
  APLIC_MMSIADDRCFG,
  APLIC_SETIE_BASE,
  APLIC_SETIENUM,
  APLIC_SETIP_BASE,
  APLIC_SETIPNUM,
  APLIC_SETIPNUM_BE,
  APLIC_SETIPNUM_LE,
  APLIC_SMSIADDRCFGH,
  APLIC_SOURCECFG_BASE,
  APLIC_TARGET_BASE,
  Aplic,
  aiaProfile,
  type AiaProfileName,
} from "@irqlab/aia";
import { MmioBus, Tracer } from "@irqlab/sim";
import { checkedAccess, drawAccess, type MmioOp } from "../mmio-access.js";
import { check, type FuzzTarget } from "../target.js";

interface Setup {
  readonly profile: AiaProfileName;
  readonly msi: boolean;
  readonly nrSources: number;
  readonly harts: number;
}

type Op = ({ readonly k: "mmio"; readonly d: 0 | 1 } & MmioOp) | { readonly k: "wire"; readonly source: number; readonly level: boolean };

/** Register blocks of AdvPLIC.adoc Table 4.2 and IDC offsets of §4.8 (with the words around each). */
const OFFSETS = [
  APLIC_DOMAINCFG, APLIC_SOURCECFG_BASE, APLIC_SOURCECFG_BASE + 4, 0xffc, APLIC_MMSIADDRCFG, APLIC_SMSIADDRCFGH, 0x1bd0, 0x1bfc,
  APLIC_SETIP_BASE, APLIC_SETIP_BASE + 0x7c, APLIC_SETIPNUM, APLIC_IN_CLRIP_BASE, APLIC_IN_CLRIP_BASE + 4, APLIC_CLRIPNUM,
  APLIC_SETIE_BASE, APLIC_SETIENUM, APLIC_CLRIE_BASE, APLIC_CLRIENUM, APLIC_SETIPNUM_LE, APLIC_SETIPNUM_BE, 0x2008, 0x2ffc,
  APLIC_GENMSI, APLIC_TARGET_BASE, APLIC_TARGET_BASE + 4, 0x3ffc, APLIC_IDC_BASE, APLIC_IDC_BASE + 4, APLIC_IDC_BASE + 8,
  APLIC_IDC_BASE + 0x18, APLIC_IDC_BASE + 0x1c, APLIC_IDC_BASE + 0x20, APLIC_IDC_BASE + 0x3c,
];

function build(s: Setup) {
  const tracer = new Tracer();
  const msi = s.msi ? { msi: { bus: new MmioBus() } } : {};
  const modes = s.msi ? { deliveryModes: "msi" as const } : {};
  const aplic = new Aplic({
    nrSources: s.nrSources,
    tracer,
    profile: aiaProfile(s.profile),
    domains: [
      { name: "m", level: "m", harts: s.harts, ...modes },
      { name: "s", level: "s", parent: "m", harts: s.harts, ...modes },
    ],
    ...msi,
  });
  return { aplic, tracer, domains: [aplic.domain("m"), aplic.domain("s")] as const };
}

export const aplicRegisters: FuzzTarget<Setup, Op> = {
  name: "aplic-registers",
  about: "APLIC root (M) and child (S) domains, direct and MSI delivery, strict/linux-kvm/qemu, with source wires",
  generate(rng, count) {
    const setup: Setup = {
      profile: rng.pick(["strict", "linux-kvm", "qemu"] as const),
      msi: rng.chance(0.5),
      nrSources: rng.pick([1, 31, 32, 63, 96, 1023]),
      harts: rng.int(1, 4),
    };
    const ops: Op[] = [];
    for (let i = 0; i < count; i++) {
      if (rng.chance(0.15)) ops.push({ k: "wire", source: rng.int(1, setup.nrSources), level: rng.chance(0.5) });
      else ops.push({ k: "mmio", d: rng.chance(0.6) ? 0 : 1, ...drawAccess(rng, 0x4000 + 32 * setup.harts, OFFSETS) });
    }
    return { setup, ops };
  },
  execute(setup, ops, step) {
    const { aplic, tracer, domains } = build(setup);
    for (let i = 0; i < ops.length; i++) {
      step(i);
      const o = ops[i]!;
      if (o.k === "wire") {
        aplic.setWire(o.source, o.level);
        continue;
      }
      const d = domains[o.d];
      if (o.off + o.size > d.regionSize) continue; // outside the domain's region: the bus would not route it here
      const before = tracer.guestErrors;
      checkedAccess(d, tracer, 0, o, `APLIC ${d.name}`);
      if (o.size !== 4) {
        check(tracer.guestErrors > before, "uncounted-bad-access", () => `APLIC ${d.name}: ${o.size}-byte access at 0x${o.off.toString(16)} not counted`);
      }
    }
    step(ops.length);
  },
};
