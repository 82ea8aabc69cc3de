// State that must be one per process although its module is loaded twice: the
// executable (dist/coord.mjs) and the CLI it loads (dist/chunks/cli.cjs) are
// bundled apart (scripts/build.mjs), so a module both use, such as the sync's
// head start, has one copy in each. What the first copy starts, the second
// must find: both keep it in the same slot of globalThis.

/** The process's slot called `name` (coord.<name>), made empty on first use. */
export function processSlot<T extends object>(name: string): Partial<T> {
  const key = Symbol.for(`coord.${name}`);
  const global = globalThis as Record<symbol, unknown>;
  global[key] ??= {};
  return global[key] as Partial<T>;
}
