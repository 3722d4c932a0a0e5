/**
 * The schema of a user scenario file (JSON or YAML), as valibot schemas:
 * machines given by their irqlab-system-ARCH command lines, the host they
 * share, a timeline of QMP commands and device events, how long to run,
 * what to measure, and optional remedies (variants of the host and the
 * command lines) to compare. The package README documents it with an
 * example (examples/two-vms-vsfile.yaml).
 */

import * as v from "valibot";

/** A duration: a number of nanoseconds or a string with a unit ("100us", "2ms", "1.5ms", "1s"). */
export const DurationSchema = v.union(
  [
    v.pipe(v.number(), v.integer("must be a whole number of nanoseconds"), v.minValue(0, "must not be negative")),
    v.pipe(v.string(), v.regex(/^\d+(\.\d+)?(ns|us|ms|s)$/, 'must be a duration such as "500ns", "20us", "1.5ms" or "2s"')),
  ],
  'must be a duration: nanoseconds, or a string such as "20us"',
);

const NameSchema = v.pipe(v.string(), v.regex(/^[a-z][a-z0-9.-]*$/, "must be lower-case letters, digits, '.' and '-', starting with a letter"));

/** Command-line arguments: one string split at spaces, or a list of arguments. */
const ArgsSchema = v.union([v.pipe(v.string(), v.minLength(1, "must not be empty")), v.pipe(v.array(v.string()), v.minLength(1, "must not be empty"))], "must be a string or a list of strings");

/** The host the machines share. */
export const HostSchema = v.strictObject({
  harts: v.optional(v.pipe(v.number(), v.integer("must be an integer"), v.minValue(1, "must be at least 1"), v.maxValue(4096, "must be at most 4096"))),
  "guest-files": v.optional(v.pipe(v.number(), v.integer("must be an integer"), v.minValue(0, "must be at least 0"), v.maxValue(63, "must be at most 63"))),
  kernel: v.optional(v.picklist(["linux-6.18", "linux-6.19"], "must be linux-6.18 or linux-6.19")),
  "vgic-init": v.optional(v.picklist(["explicit", "lazy-init", "lazy-init-irqfd-eagain"], "must be explicit, lazy-init or lazy-init-irqfd-eagain")),
  "kernel-migrate": v.optional(v.boolean("must be true or false")),
});

const MachineSchema = v.strictObject({
  name: NameSchema,
  arch: v.picklist(["aarch64", "riscv64"], "must be aarch64 or riscv64"),
  args: ArgsSchema,
  "launch-at": v.optional(DurationSchema),
});

const QmpSchema = v.strictObject({
  execute: v.pipe(v.string(), v.minLength(1, "must name a command")),
  arguments: v.optional(v.record(v.string(), v.unknown(), "must be an object")),
});

const DeviceEventSchema = v.strictObject({
  id: v.string(),
  action: v.picklist(["pulse", "line-high", "line-low"], "must be pulse, line-high or line-low"),
});

const EventSchema = v.pipe(
  v.strictObject({
    at: DurationSchema,
    machine: v.string(),
    qmp: v.optional(QmpSchema),
    device: v.optional(DeviceEventSchema),
  }),
  v.check((e) => (e.qmp === undefined) !== (e.device === undefined), "an event has either 'qmp' or 'device'"),
);

/** What a user file can measure. */
export const MEASURES = ["run-state", "console", "errors", "repins", "fail-entries", "vsfiles", "device", "qmp", "qmp-events"] as const;

const RemedySchema = v.strictObject({
  name: NameSchema,
  title: v.optional(v.string()),
  description: v.optional(v.string()),
  host: v.optional(HostSchema),
  args: v.optional(v.record(v.string(), ArgsSchema)),
});

/** A whole user scenario file. */
export const UserScenarioSchema = v.strictObject({
  name: NameSchema,
  title: v.optional(v.string()),
  description: v.optional(v.string()),
  host: v.optional(HostSchema),
  machines: v.pipe(v.array(MachineSchema), v.minLength(1, "must list at least one machine"), v.maxLength(32, "must list at most 32 machines")),
  timeline: v.optional(v.array(EventSchema)),
  "run-for": DurationSchema,
  measures: v.optional(v.array(v.picklist(MEASURES, `must be one of ${MEASURES.join(", ")}`))),
  remedies: v.optional(v.pipe(v.array(RemedySchema), v.minLength(1, "must list at least one remedy"))),
});

/** A validated user scenario file. */
export type UserScenarioFile = v.InferOutput<typeof UserScenarioSchema>;
/** The host part. */
export type UserHost = v.InferOutput<typeof HostSchema>;
/** One measure name. */
export type UserMeasure = (typeof MEASURES)[number];
