import { describe, expect, it, vi } from "vitest";
import { runSeed001 } from "../../index.js";

describe("src/vgic/its/README.md example", () => {
  it("prints the seed-001 summary per behaviour", () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => {
      lines.push(a.map(String).join(" "));
    });
    // --- README example, verbatim from here ---
    for (const b of ["linux-6.6", "linux-6.16", "rfc-shared-vlpi"] as const) {
      const r = runSeed001(b);
      console.log(b, `forwarded ${r.forwardedBefore}/7`, `WARN ${r.warns}`, `1:1 violations ${r.violations}`,
        `after reset: ${r.forwardedAfter} still mapped, ${r.firingAfter} firing, hang ${r.guestHang}`);
    }
    // --- end of the example ---
    spy.mockRestore();
    expect(lines).toEqual([
      "linux-6.6 forwarded 7/7 WARN 6 1:1 violations 5 after reset: 5 still mapped, 5 firing, hang true",
      "linux-6.16 forwarded 2/7 WARN 0 1:1 violations 0 after reset: 0 still mapped, 0 firing, hang false",
      "rfc-shared-vlpi forwarded 7/7 WARN 0 1:1 violations 5 after reset: 0 still mapped, 0 firing, hang false",
    ]);
  });
});
