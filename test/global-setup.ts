// Once per test run: a directory where makeFleet (test/helpers.ts) keeps one
// template fleet per list of machine names and 5 minutes, built on first use and
// copied for every later fleet of the same names; removed when the run ends.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    fleetTemplates: string;
  }
}

export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), "coord-fleet-templates-"));
  project.provide("fleetTemplates", dir);
  return () => rmSync(dir, { recursive: true, force: true });
}
