// No circle of imports anywhere in src/, type imports included: a scan of the sources builds the graph of relative
// imports (static, type-only, re-exports and dynamic `import("…")`) and lists every strongly connected component of
// more than one file, and every file that imports itself. The same holds one level up, between the folders of
// src/core/ (its domains: orders/, fleet/, status/, …): an import from core/a/x.ts of core/b/y.ts is an edge a → b, and
// no folder reaches back to one that imports it.
import { readFile } from "node:fs/promises";
import { dirname, join, normalize, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { SRC, sources } from "./sources.js";

/** The relative specifiers a module names: `import … from`, `export … from`, `import "…"` and `import("…")`. */
const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)"(\.{1,2}\/[^"]+)"/g;

/** The files (paths relative to src/, ending .ts) that `file` imports, among `files`. */
function importsOf(file: string, text: string, files: ReadonlySet<string>): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(IMPORT)) {
    const spec = normalize(join(dirname(file), m[1]!));
    const ts = spec.replace(/\.js$/, ".ts");
    if (files.has(ts)) out.add(ts);
    else if (files.has(`${spec}.ts`)) out.add(`${spec}.ts`);
    else if (files.has(join(spec, "index.ts"))) out.add(join(spec, "index.ts"));
  }
  return [...out];
}

/** Each circle in the graph (Tarjan's strongly connected components of more than one node, and self-loops), sorted. */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next);
    next++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(component.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The folder of src/core/ a file is in ("core" for a file at the top of core/), or undefined outside the core. */
const coreFolderOf = (file: string): string | undefined => {
  const parts = file.split("/");
  if (parts[0] !== "core") return undefined;
  return parts.length > 2 ? parts[1] : "core";
};

/** The graph of the core's folders: an edge a → b for each import from a file in core/a/ of a file in core/b/. */
function folderGraph(graph: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const folders = new Map<string, Set<string>>();
  for (const [file, imports] of graph) {
    const from = coreFolderOf(file);
    if (from === undefined) continue;
    const edges = folders.get(from) ?? new Set<string>();
    folders.set(from, edges);
    for (const to of imports.map(coreFolderOf)) if (to !== undefined && to !== from) edges.add(to);
  }
  return new Map([...folders].map(([folder, edges]) => [folder, [...edges].sort()]));
}

/** The graph of relative imports among the files of src/ (paths relative to src/). */
async function importGraph(): Promise<Map<string, string[]>> {
  const paths = await sources(SRC);
  const files = new Set(paths.map((p) => relative(SRC, p)));
  const graph = new Map<string, string[]>();
  for (const path of paths) {
    const file = relative(SRC, path);
    graph.set(file, importsOf(file, await readFile(path, "utf8"), files));
  }
  return graph;
}

describe("the import graph", () => {
  it("has no circle anywhere in src/, type imports included", async () => {
    expect(circles(await importGraph()).map((c) => c.join(" ↔ "))).toEqual([]);
  });

  it("has no circle between the folders of src/core/, type imports included", async () => {
    const folders = folderGraph(await importGraph());
    expect(folders.size).toBeGreaterThan(1);
    expect(circles(folders).map((c) => c.join(" ↔ "))).toEqual([]);
  });

  it("the scan reads every kind of relative import", () => {
    const files = new Set(["core/a.ts", "core/b.ts", "core/c.ts", "core/d.ts", "core/e.ts", "sync/s.ts"]);
    const text = [
      'import { x } from "./b.js";',
      'import type {\n  Y,\n} from "./c.js";',
      'export { z } from "./d.js";',
      'const e = await import("./e.js");',
      'import "../sync/s.js";',
      'import { readFile } from "node:fs/promises";',
    ].join("\n");
    expect(importsOf("core/a.ts", text, files).sort()).toEqual(["core/b.ts", "core/c.ts", "core/d.ts", "core/e.ts", "sync/s.ts"]);
  });

  it("the scan finds a circle, a self-import, and none in a tree", () => {
    const graph = new Map([
      ["a", ["b"]],
      ["b", ["c", "d"]],
      ["c", ["a"]],
      ["d", ["e"]],
      ["e", []],
      ["f", ["f"]],
    ]);
    expect(circles(graph)).toEqual([["a", "b", "c"], ["f"]]);
    const tree = new Map([
      ["a", ["b", "c"]],
      ["b", ["c"]],
      ["c", []],
    ]);
    expect(circles(tree)).toEqual([]);
  });

  it("the folders' graph has an edge for each import between two folders of the core, and none for the rest", () => {
    const graph = new Map([
      ["core/a/x.ts", ["core/a/y.ts", "core/b/z.ts", "core/types.ts"]],
      ["core/a/y.ts", []],
      ["core/b/z.ts", ["core/types.ts"]],
      ["core/types.ts", []],
      ["sync/s.ts", ["core/a/x.ts"]],
    ]);
    expect(folderGraph(graph)).toEqual(
      new Map([
        ["a", ["b", "core"]],
        ["b", ["core"]],
        ["core", []],
      ]),
    );
    graph.set("core/b/z.ts", ["core/a/y.ts"]); // b → a while a → b: files with no circle, folders in one
    expect(circles(graph)).toEqual([]);
    expect(circles(folderGraph(graph))).toEqual([["a", "b"]]);
  });
});
