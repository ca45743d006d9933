// When to look at a running task again. Stands in for the shared schedule of the protocol core until it
// lands; the engine only sees `adaptivePollDelay`. No vscode import (the bench runs it in plain Node).
//
// The service says a task takes 1 to 5 minutes. Quick looks at first catch a refusal or a fast task and
// make the tree move (PENDING → RUNNING) while the user watches; then the interval grows to the API
// reference's 15 s. A ±15 % jitter keeps many tasks (and windows) from polling in lockstep.
const STEPS_MS = [1000, 2000, 3000, 5000, 8000, 10_000, 12_000];
const STEADY_MS = 15_000;
const JITTER = 0.15;

export function adaptivePollDelay(polls: number, random: () => number = Math.random): number {
  const base = STEPS_MS[polls] ?? STEADY_MS;
  return Math.round(base * (1 - JITTER + 2 * JITTER * random()));
}
