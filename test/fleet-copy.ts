// A fleet that several tests of a file start from, made once per file by the same steps a test would take and
// copied for each test: the hub, the clones and each machine's .git/coord as the steps left them.
import { rm } from "node:fs/promises";
import { copyFleetFolder, type Fleet, tempDir } from "./helpers.js";

/** A copy of `from` in a folder of its own (copyFleetFolder), every path of the returned fleet moved to it. */
export async function copyFleet<T extends Fleet>(from: T, prefix = "coord-test-"): Promise<T> {
  const root = await tempDir(prefix);
  await copyFleetFolder(from.root, from.root, root);
  const { cleanup: _, ...paths } = from;
  return { ...JSON.parse(JSON.stringify(paths).split(from.root).join(root)), cleanup: () => rm(root, { recursive: true, force: true }) } as T;
}

/** Fleets made once per file, each by its `build` on first use (again if that failed), copied for each test; `cleanup` removes them (afterAll). */
export class FleetTemplates {
  private readonly made = new Map<string, Promise<Fleet>>();

  async copy<T extends Fleet>(kind: string, build: () => Promise<T>, prefix?: string): Promise<T> {
    let made = this.made.get(kind);
    if (!made) {
      made = build();
      this.made.set(kind, made);
      made.catch(() => this.made.delete(kind));
    }
    return copyFleet((await made) as T, prefix);
  }

  async cleanup(): Promise<void> {
    for (const made of this.made.values()) await (await made.catch(() => undefined))?.cleanup();
    this.made.clear();
  }
}
