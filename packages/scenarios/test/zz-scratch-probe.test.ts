import { test } from "vitest";
import { runScenario, scenarios, reportsToChromeTrace } from "../src/index.js";
test("probe", () => {
  const s = scenarios.find((x) => x.seed === "003")!;
  const r = runScenario(s, { seed: 0, trace: true });
  const t = reportsToChromeTrace([r]) as any;
  const ev = (t.traceEvents ?? t) as any[];
  const names = new Map<string, number>();
  for (const e of ev) { const k = `${e.ph} ${e.name} ${e.cat ?? ""}`; names.set(k, (names.get(k) ?? 0) + 1); }
  console.log([...names].map(([k, n]) => `${n}\t${k}`).join("\n"));
  console.log(JSON.stringify(ev.filter((e) => e.ph === "M").slice(0, 60)));
  console.log(JSON.stringify(ev.filter((e) => e.ph === "s" || e.ph === "f" || e.ph === "i" || e.ph === "I").slice(0, 40), null, 0));
});
