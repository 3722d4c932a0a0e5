// The web app in a real browser (Debian's chromium, headless): the app is built with Vite, served from a
// temporary folder, and every registered scenario is run in the page. The outcome table must show exactly the
// values of the CLI's --json for the same seed (computed here by the same @irqlab/scenarios calls the CLI
// makes), the detail tables (seed 001's mappings, seed 002's slots) must be the measured ones, the timeline
// must paint the run's trace and zoom, seed 000's heat maps must mark as many refused entries as the model
// recorded, and a trace file written like `--trace FILE` must open in the timeline. While the page runs a
// scenario, the test computes the expected report in node (two cores, two runs at once). The step view must list
// the report's schedules (the explorer's counterexamples, seed 003's interrupt paths) and highlight the marked step.
// Screenshots go to apps/web/test-output/.
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exploreWakeups, formatValue, reportToJson, reportsToChromeTraceJson, runScenario, scenarios, type ScenarioReport, type WakeupCondition } from "@irqlab/scenarios";
import { chromium, type Browser, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { serveStatic } from "./static-server.js";

const APP = join(import.meta.dirname, "..");
const OUTPUT = join(APP, "test-output");
const CHROMIUM = "/usr/bin/chromium";
const SEED = 0;

let dir = "";
let server: Server | undefined;
let browser: Browser | undefined;
let page: Page;
let url = "";

/** Debian's chromium may still be being installed by apt when the tests start: wait for it (never download one). */
async function waitForChromium(ms: number): Promise<void> {
  for (const end = Date.now() + ms; !existsSync(CHROMIUM); ) {
    if (Date.now() > end) throw new Error(`${CHROMIUM} is missing: apt-get install chromium`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "irqlab-web-"));
  await build({ configFile: join(APP, "vite.config.ts"), logLevel: "error", build: { outDir: join(dir, "dist"), emptyOutDir: true } });
  ({ server, url } = await serveStatic(join(dir, "dist")));
  await waitForChromium(60_000);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
  page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector("#run:not([disabled])", { timeout: 15_000 });
  expect(errors).toEqual([]);
  await mkdir(OUTPUT, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r) ?? r(undefined));
  if (dir !== "") await rm(dir, { recursive: true, force: true });
});

/** What `irqlab scenario run NAME --json --trace FILE --seed SEED` measures for one scenario (its one report). */
function expected(name: string): ScenarioReport {
  return runScenario(scenarios.find((s) => s.name === name)!, { seed: SEED, trace: true });
}

/** Starts a scenario in the page (all remedies checked); computes the expected report meanwhile; waits for the page. */
async function runInPage(name: string): Promise<ScenarioReport> {
  await page.selectOption("#scenario", name);
  await page.fill("#seed", String(SEED));
  await page.click("#run");
  const want = expected(name);
  await page.waitForFunction((n) => document.body.dataset.result === n && document.body.dataset.state === "idle", name, { timeout: 40_000 });
  return want;
}

describe("the web app in chromium", () => {
  for (const s of scenarios) {
    test(`${s.seed ?? "---"} ${s.name}: the table shows --json's values, the timeline paints the trace${s.seed === "000" ? ", the heat maps mark refused entries" : ""}`, async () => {
      const report = await runInPage(s.name);
      const want = reportToJson(report);
      const shown = await page.$$eval("table.outcome td[data-key]", (cells) =>
        cells.map((c) => ({ remedy: c.getAttribute("data-remedy"), key: c.getAttribute("data-key"), value: c.getAttribute("data-value"), text: c.textContent })),
      );
      const cells = want.rows.flatMap((r) => want.columns.map((c) => ({ remedy: r.remedy, key: c.key, value: JSON.stringify(r.values[c.key]), text: formatValue(r.values[c.key], c.unit ?? undefined) })));
      expect(shown.sort(byCell)).toEqual(cells.sort(byCell));
      const verdicts = await page.$$eval("table.outcome td.verdict", (tds) => tds.map((c) => c.textContent));
      expect(verdicts).toEqual(want.rows.map((r) => r.verdict));
      const progress = await page.$$eval("#progress li", (items) => items.map((i) => i.getAttribute("class")));
      expect(progress).toEqual(want.rows.map(() => "done"));

      if (report.traces.size === 0) {
        // The explorer searches a protocol model: there is no machine run to trace.
        expect(await page.textContent("#timeline p.empty")).toContain("no trace events");
      } else {
        const canvas = page.locator("#timeline canvas");
        await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>("#timeline canvas")?.dataset.painted ?? 0) > 0);
        expect(Number(await canvas.getAttribute("data-tracks"))).toBeGreaterThan(0);
        const before = Number(await canvas.getAttribute("data-domain-end")) - Number(await canvas.getAttribute("data-domain-start"));
        await page.click('#timeline button[data-zoom="+"]');
        await page.waitForFunction((w) => {
          const d = document.querySelector<HTMLCanvasElement>("#timeline canvas")!.dataset;
          return Number(d.domainEnd) - Number(d.domainStart) < w * 0.75;
        }, before);
      }

      const tables = report.rows.flatMap((r) => (r.tables ?? []).map((t) => ({ remedy: r.remedy, title: t.title, cells: [t.columns, ...t.rows] })));
      expect(await page.isHidden("#details")).toBe(tables.length === 0);
      const shownTables = await page.$$eval("#details figure.detail", (figs) =>
        figs.map((f) => ({
          remedy: f.getAttribute("data-remedy"),
          title: f.getAttribute("data-title"),
          cells: [...f.querySelectorAll("tr")].map((tr) => [...tr.children].map((c) => c.textContent)),
        })),
      );
      expect(shownTables).toEqual(tables);

      await checkSteps(s.name, report);

      const occupancy = report.rows.filter((r) => r.occupancy !== undefined).map((r) => ({ remedy: r.remedy, marks: String(r.occupancy!.marks.length) }));
      expect(await page.isHidden("#occupancy")).toBe(occupancy.length === 0);
      if (occupancy.length > 0) {
        const figures = await page.$$eval("#occupancy figure", (figs) => figs.map((f) => ({ remedy: f.getAttribute("data-remedy"), marks: f.getAttribute("data-marks") })));
        expect(figures).toEqual(occupancy);
        expect(occupancy.some((o) => o.marks !== "0")).toBe(true);
        await page.locator("#occupancy").screenshot({ path: join(OUTPUT, `${s.seed ?? "xxx"}-occupancy.png`) });
      }
      await page.screenshot({ path: join(OUTPUT, `${s.seed ?? "xxx"}-${s.name}.png`), fullPage: true });
    }, 60_000);
  }

  test("a trace file written like `irqlab scenario run 003 --trace FILE` opens in the timeline", async () => {
    const s = scenarios.find((x) => x.seed === "003")!;
    const text = reportsToChromeTraceJson([runScenario(s, { seed: SEED, trace: true })], { command: "irqlab scenario run" });
    const file = join(dir, "irqlab-trace-003.json");
    await writeFile(file, text);
    const events = (JSON.parse(text) as { traceEvents: { ph: string }[] }).traceEvents.filter((e) => e.ph !== "M").length;
    await page.setInputFiles("#trace-file", file);
    await page.waitForFunction(() => document.body.dataset.trace === "irqlab-trace-003.json" && document.body.dataset.state === "idle");
    await expect.poll(() => page.textContent("#timeline .timeline-toolbar")).toContain(`${events} events`);
    await page.waitForFunction(() => Number(document.querySelector<HTMLCanvasElement>("#timeline canvas")?.dataset.painted ?? 0) > 0);
    await page.locator("#timeline").screenshot({ path: join(OUTPUT, "trace-file-003.png") });
  }, 30_000);
});

/**
 * The step view: one entry per schedule the report carries (for the explorer, one per counterexample of a
 * separate search, with as many steps as its trace), and stepping to the marked step highlights it.
 */
async function checkSteps(name: string, report: ScenarioReport): Promise<void> {
  const want = report.rows.flatMap((r) => (r.schedules ?? []).map((x) => ({ remedy: r.remedy, title: x.title, steps: String(x.steps.length) })));
  if (name === "wakeup-explorer") {
    const direct = report.rows.flatMap((r) => exploreWakeups(r.remedy as WakeupCondition).violations.map((v) => ({ remedy: r.remedy, title: `${v.kind}: vcpu${v.vcpu}`, steps: String(v.trace.length) })));
    expect(want).toEqual(direct);
    expect(direct.length).toBeGreaterThan(0);
  }
  expect(await page.isHidden("#steps")).toBe(want.length === 0);
  const shown = await page.$$eval("#steps select.step-pick option", (options) => options.map((o) => ({ remedy: o.dataset.remedy, title: o.dataset.title, steps: o.dataset.steps })));
  expect(shown).toEqual(want);
  if (want.length === 0) return;

  // The first schedule whose marked step is not the first: step to it with Next (the explorer) or a click on it in the list.
  const rows = report.rows.flatMap((r) => (r.schedules ?? []).map((x) => ({ remedy: r.remedy, schedule: x })));
  const pick = rows.findIndex((x) => (x.schedule.mark ?? 0) > 0);
  expect(pick).toBeGreaterThanOrEqual(0);
  const { schedule } = rows[pick]!;
  const mark = schedule.mark!;
  await page.selectOption("#steps select.step-pick", String(pick));
  const body = page.locator("#steps .body");
  expect(await page.locator("#steps ol.step-list li").count()).toBe(schedule.steps.length);
  expect(await body.getAttribute("data-current")).toBe("0");
  expect(await body.getAttribute("data-at-mark")).toBe("false");
  if (mark <= 40) for (let i = 0; i < mark; i++) await page.click('#steps button[data-step="next"]');
  else await page.click(`#steps ol.step-list li[data-index="${mark}"]`);
  expect(await body.getAttribute("data-current")).toBe(String(mark));
  expect(await body.getAttribute("data-at-mark")).toBe("true");
  expect(await page.getAttribute("#steps li.current", "class")).toBe(`marked ${schedule.markKind} current`);
  expect(await page.textContent("#steps li.current")).toContain(schedule.steps[mark]!.label);
  // The state table is the schedule's state after the marked step, cell for cell.
  const cells = await page.$$eval("#steps table.step-table td", (tds) => tds.map((td) => [td.dataset.subject, td.dataset.field, td.textContent]));
  const state = schedule.steps[mark]!.state;
  expect(cells.sort()).toEqual(state.flatMap((x) => x.fields.map(([f, v]) => [x.subject, f, v])).sort());
  if (schedule.markKind === "breaks") expect(cells.some(([, f, v]) => f === "invariant" && v!.startsWith("broken"))).toBe(true);
  await page.locator("#steps").screenshot({ path: join(OUTPUT, `${report.scenario.seed ?? "xxx"}-${name}-steps.png`) });
  await page.click('#steps button[data-step="prev"]');
  expect(await body.getAttribute("data-at-mark")).toBe("false");
  // Play advances on its own, back onto the marked step; Pause (or the last step) stops it.
  await page.click('#steps button[data-step="play"]');
  expect(await page.textContent('#steps button[data-step="play"]')).toBe("Pause");
  await page.waitForFunction((m) => document.querySelector<HTMLElement>("#steps .body")!.dataset.current === m, String(mark), { timeout: 5_000 });
  expect(await body.getAttribute("data-at-mark")).toBe("true");
  if ((await page.textContent('#steps button[data-step="play"]')) === "Pause") await page.click('#steps button[data-step="play"]');
  expect(await page.textContent('#steps button[data-step="play"]')).toBe("Play");
}

function byCell(a: { remedy: string | null; key: string | null }, b: { remedy: string | null; key: string | null }): number {
  return `${a.remedy}\u0000${a.key}`.localeCompare(`${b.remedy}\u0000${b.key}`);
}
