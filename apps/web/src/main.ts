/**
 * The page: pick a scenario, its remedies and a seed, run it in the worker
 * (progress per remedy), then show the outcome table, any detail tables, the
 * step-by-step schedules when it has any (seed 004's counterexamples, seed
 * 003's interrupt paths), the timeline of its trace and, when the scenario
 * measures one, the occupancy heat maps. A
 * trace file exported by the CLI (`--trace FILE`) opens in the same
 * timeline.
 */

import { byId, el } from "./dom.js";
import { ScenarioClient } from "./scenario-client.js";
import { renderDetailTables } from "./views/detail-tables.js";
import { renderOccupancy } from "./views/occupancy-heatmap.js";
import { renderOutcomeTable } from "./views/outcome-table.js";
import { StepView } from "./views/step-view.js";
import { TimelineView } from "./views/timeline-view.js";
import type { CatalogueScenario, WorkerMessage } from "./worker/protocol.js";

const scenarioSelect = byId("scenario", HTMLSelectElement);
const seedInput = byId("seed", HTMLInputElement);
const remediesBox = byId("remedies", HTMLFieldSetElement);
const runButton = byId("run", HTMLButtonElement);
const traceFile = byId("trace-file", HTMLInputElement);
const status = byId("status", HTMLOutputElement);
const progress = byId("progress", HTMLOListElement);
const explain = byId("explain", HTMLDetailsElement);
const outcome = byId("outcome", HTMLElement).querySelector<HTMLElement>(".body")!;
const detailsSection = byId("details", HTMLElement);
const details = detailsSection.querySelector<HTMLElement>(".body")!;
const occupancySection = byId("occupancy", HTMLElement);
const occupancy = occupancySection.querySelector<HTMLElement>(".body")!;
const stepsSection = byId("steps", HTMLElement);
const steps = new StepView(stepsSection.querySelector<HTMLElement>(".body")!);
const timeline = new TimelineView(byId("timeline", HTMLElement).querySelector<HTMLElement>(".body")!);

let catalogue: readonly CatalogueScenario[] = [];
let busy = false;

function setBusy(on: boolean, text: string): void {
  busy = on;
  runButton.disabled = on || catalogue.length === 0;
  status.textContent = text;
  status.classList.remove("error");
  document.body.dataset.state = on ? "running" : "idle";
}

function showRemedies(): void {
  const s = catalogue.find((x) => x.name === scenarioSelect.value);
  if (s === undefined) return;
  remediesBox.replaceChildren(
    el("legend", {}, "Remedies"),
    ...s.remedies.map((r) => {
      const box = el("input", { type: "checkbox", name: "remedy", value: r.name });
      box.checked = true;
      return el("label", { title: `${r.title}${r.description === "" ? "" : ` — ${r.description}`}` }, box, ` ${r.name}`);
    }),
  );
  explain.querySelector("pre")!.textContent = s.explain;
}

function run(): void {
  const remedies = [...remediesBox.querySelectorAll<HTMLInputElement>("input[name=remedy]:checked")].map((b) => b.value);
  const seed = Number(seedInput.value);
  if (remedies.length === 0) {
    status.textContent = "pick at least one remedy";
    return;
  }
  if (!Number.isInteger(seed) || seed < 0) {
    status.textContent = "the seed is a non-negative integer";
    return;
  }
  progress.replaceChildren(...remedies.map((r) => el("li", { "data-remedy": r }, `${r}: waiting`)));
  setBusy(true, `running ${scenarioSelect.value} (${remedies.length} remedies, seed ${seed})`);
  client.send({ type: "run", scenario: scenarioSelect.value, remedies, seed });
}

function onMessage(m: WorkerMessage): void {
  switch (m.type) {
    case "catalogue":
      catalogue = m.scenarios;
      scenarioSelect.replaceChildren(...catalogue.map((s) => el("option", { value: s.name }, `${s.seed ?? "   "} ${s.name} — ${s.title}`)));
      showRemedies();
      setBusy(false, "ready");
      break;
    case "progress": {
      const item = progress.querySelector<HTMLLIElement>(`li[data-remedy="${CSS.escape(m.remedy)}"]`);
      if (item !== null) {
        item.textContent = m.done ? `${m.remedy}: done in ${(m.wallMs ?? 0).toFixed(0)} ms` : `${m.remedy}: running`;
        item.className = m.done ? "done" : "running";
      }
      status.textContent = `${m.done ? "ran" : "running"} ${m.remedy} (${m.index + 1} of ${m.total})`;
      break;
    }
    case "result":
      renderOutcomeTable(outcome, m.report, m.wallMs);
      detailsSection.hidden = m.tables.length === 0;
      renderDetailTables(details, m.tables);
      stepsSection.hidden = steps.show(m.schedules) === 0;
      timeline.show(m.trace, `${m.report.scenario} (seed ${m.report.seed})`);
      occupancySection.hidden = m.occupancy.length === 0;
      if (m.occupancy.length > 0) renderOccupancy(occupancy, m.occupancy);
      setBusy(false, `done: ${m.report.scenario}, ${m.report.rows.length} remedies`);
      document.body.dataset.result = m.report.scenario;
      break;
    case "trace":
      timeline.show(m.trace, m.label);
      setBusy(false, `opened ${m.label}`);
      document.body.dataset.trace = m.label;
      break;
    case "error":
      setBusy(false, m.message);
      status.classList.add("error");
      break;
  }
}

const client = new ScenarioClient(onMessage);
scenarioSelect.addEventListener("change", showRemedies);
runButton.addEventListener("click", () => {
  if (!busy) run();
});
traceFile.addEventListener("change", () => {
  const file = traceFile.files?.[0];
  if (file === undefined) return;
  setBusy(true, `reading ${file.name}`);
  client.send({ type: "open-trace", file, label: file.name });
});
