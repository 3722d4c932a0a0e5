// Seed 001's mapping table (the host ITS's vLPI ↔ host irq mappings over a machine run, logged as the
// forwarding makes them): the 2023 code maps all six shared vectors onto one vLPI and unmaps one of them;
// the 1:1 code never gives a vLPI a second host irq and leaves nothing mapped after the reboot.
import { describe, expect, test } from "vitest";
import { SHARED_VLPI_QUEUE } from "../src/seed-001/shared-vlpi.js";
import { runSharedVlpiMachine } from "../src/seed-001/shared-vlpi-machine.js";

const old = runSharedVlpiMachine("linux-6.6");
const kept = runSharedVlpiMachine("linux-6.16");
const calls = (r: typeof old, call: string) => r.mappings.rows.filter((row) => row[3] === call);

describe("seed 001 mapping table", () => {
  test("linux-6.6: one row per its_map_vlpi, six vectors on the shared vLPI at once, two unmaps, five left mapped", () => {
    expect(calls(old, "its_map_vlpi").length).toBe(old.mapCalls);
    expect(calls(old, "its_unmap_vlpi").length).toBe(2);
    const shared = old.mappings.rows.filter((row) => row[4]!.startsWith(`vLPI ${SHARED_VLPI_QUEUE} `));
    expect(Math.max(...shared.map((row) => row[5]!.split(", ").filter((v) => v !== "").length))).toBe(6);
    const last = new Map<string, string>();
    for (const row of old.mappings.rows) last.set(row[1]!, row[3]!);
    expect([...last.values()].filter((c) => c === "its_map_vlpi").length).toBe(old.stillMapped);
    const times = old.mappings.rows.map((row) => parseFloat(row[0]!));
    expect(times).toEqual([...times].sort((a, b) => a - b));
  });

  test("linux-6.16: never two host irqs on one vLPI; every mapping is undone by the reboot", () => {
    expect(calls(kept, "its_map_vlpi").length).toBe(kept.mapCalls);
    for (const row of kept.mappings.rows) expect(row[5]!.split(", ").filter((v) => v !== "").length).toBeLessThanOrEqual(1);
    expect(kept.stillMapped).toBe(0);
    expect(calls(kept, "its_unmap_vlpi").length).toBe(calls(kept, "its_map_vlpi").length);
  });
});
