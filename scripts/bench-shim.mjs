// Stand-in for `vitest`'s bench API when scripts/bench.mjs runs a bench file
// outside vitest: `describe` runs its body at once, `bench` registers a task
// on a global list that the runner reads after importing the bundle.
const tasks = (globalThis.__irqlabBenchTasks ??= []);
const prefix = [];

export function describe(name, body) {
  prefix.push(name);
  try {
    body();
  } finally {
    prefix.pop();
  }
}

export function bench(name, fn, options = {}) {
  tasks.push({ group: prefix.join(" > "), name, fn, options });
}
