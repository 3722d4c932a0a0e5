/**
 * Runs the README's example and checks that the README shows exactly this
 * code (between the markers), so the documented example cannot rot.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, test, vi } from "vitest";

test("the README example runs and prints what the README says", async () => {
  const logs: string[] = [];
  const spy = vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    logs.push(args.map(String).join(" "));
  });
  try {
    await example();
  } finally {
    spy.mockRestore();
  }
  expect(logs).toEqual(["hgeip[1] = true", "hgeip[1] = false", "guest claimed 42"]);
});

test("the README shows this file's example verbatim", () => {
  const here = readFileSync(new URL(import.meta.url), "utf8");
  const start = "// README-EXAMPLE-" + "START\n";
  const code = here.slice(here.lastIndexOf(start) + start.length, here.lastIndexOf("  // README-EXAMPLE-" + "END"));
  const unindented = code
    .split("\n")
    .map((l) => l.replace(/^ {2}/, ""))
    .join("\n")
    .replace(/await import\("(.*?)"\)/g, (_m, p: string) => `import("${p}")`);
  const readme = readFileSync(join(import.meta.dirname, "..", "README.md"), "utf8");
  const block = /```(?:ts|js)\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
  const norm = (s: string) => s.replace(/const \{ (.*?) \} = import\("(.*?)"\);/g, 'import { $1 } from "$2";').trim();
  expect(norm(block)).toBe(norm(unindented));
});

async function example(): Promise<void> {
  // README-EXAMPLE-START
  const { MmioBus } = await import("@irqlab/sim");
  const { Aplic, ImsicHart, ImsicLayout, ISELECT_EIDELIVERY } = await import("@irqlab/aia");

  const bus = new MmioBus();
  const layout = new ImsicLayout({ mBase: 0x2400_0000, sBase: 0x2800_0000, hartBits: 0, geilen: 1 });
  const hart = new ImsicHart({ hartIndex: 0, mIds: 63, sIds: 63, geilen: 1, lines: { hgeip: (g, on) => console.log(`hgeip[${g}] = ${on}`) } });
  hart.mapInto(bus, layout, 0, 0);
  const vs = hart.guestFile(1);
  vs.setEnabled(42, true);
  vs.writeIreg(ISELECT_EIDELIVERY, 64, 1, 0);

  const aplic = new Aplic({
    nrSources: 8,
    domains: [{ name: "m", level: "m", harts: 1 }, { name: "s", level: "s", parent: "m", harts: 1, geilen: 1 }],
    msi: { bus, addrCfg: layout.toMsiAddrCfg() },
  });
  aplic.mapDomain(bus, "m", 0x0c00_0000);
  aplic.mapDomain(bus, "s", 0x0d00_0000);
  bus.write(0x0c00_0014, 4, 0x400); // M: sourcecfg[5] = D, child 0 (delegate to S)
  bus.write(0x0d00_0000, 4, 0x104); // S: domaincfg = IE | DM (MSI)
  bus.write(0x0d00_0014, 4, 4); // S: sourcecfg[5] = Edge1
  bus.write(0x0d00_3014, 4, (0 << 18) | (1 << 12) | 42); // S: target[5] = hart 0, guest 1, EIID 42
  bus.write(0x0d00_1edc, 4, 5); // S: setienum = 5
  aplic.setWire(5, 1); // rising edge -> MSI -> guest file 1 -> hgeip[1]
  console.log(`guest claimed ${vs.swapTopei() >>> 16}`); // vstopei read-and-claim
  // README-EXAMPLE-END
}
