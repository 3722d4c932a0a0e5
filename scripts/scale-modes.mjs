// The bench:compare tests that time the RISC-V scale bench's deliveries, and the mode each runs the
// rig's deliveries in (riscv-scale-span.ts's argument): `scale` to each of the 4096 vCPUs in turn,
// `scale-hot` to the first 64, `scale-1024` and `scale-2048` to the first 1024 or 2048. Shared by
// bench-compare.mjs and bench-paired-span.mjs, which runs them paired.

/** Test name → mode: "cold", "hot" or a number of vCPUs. */
export const SCALE_MODES = Object.freeze({ scale: "cold", "scale-hot": "hot", "scale-1024": "1024", "scale-2048": "2048" });

/** The mode of scale test `test`, or undefined when it is not one (a micro-bench test). */
export function scaleModeOf(test) {
  return Object.hasOwn(SCALE_MODES, test) ? SCALE_MODES[test] : undefined;
}
