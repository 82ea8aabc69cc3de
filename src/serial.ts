// One thing at a time: tasks that must not overlap (writes of one file, publishes of one cycle, fast-forwards
// of one checkout) run in the order they were asked for, each after the one before it settled. A task's
// failure is its caller's alone: the next in line runs all the same. The one serializer coord has.

/** A queue of tasks run one after another; `turn(async () => {})` resolves once all asked before it are done. */
export type Turn = <T>(task: () => Promise<T>) => Promise<T>;

export function inTurn(): Turn {
  let tail: Promise<unknown> = Promise.resolve();
  return (task) => {
    const run = tail.then(task, task);
    tail = run.catch(() => {});
    return run;
  };
}

/** Queues by key: tasks of one key one after another, of different keys side by side; a key with none waiting is forgotten. */
export function inTurnBy(): <T>(key: string, task: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async (key, task) => {
    const run = (tails.get(key) ?? Promise.resolve()).then(task, task);
    const settled = run.catch(() => {});
    tails.set(key, settled);
    try {
      return await run;
    } finally {
      if (tails.get(key) === settled) tails.delete(key);
    }
  };
}
