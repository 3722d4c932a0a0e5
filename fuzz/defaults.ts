/** Operations per case when `--ops` is not given: sized so each target runs a few seconds. */
export const DEFAULT_OPS: Readonly<Record<string, number>> = {
  "gic-registers": 50_000,
  "its-commands": 20_000,
  "imsic-registers": 50_000,
  "aplic-registers": 50_000,
  "kvm-ioctls": 5_000,
  conservation: 3_000,
  "run-loop-forms": 100,
};
