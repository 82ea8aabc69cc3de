// No function in src/ is over 150 lines, none in on-call code over 120 (issue 59): a long closure grows
// a dozen inner functions over shared mutable state, and the next feature copies it. A function, a
// method, an accessor or an arrow, counted from its first line of code (its doc comment left out) to
// its last. A scan of the sources with the TypeScript compiler keeps it so.
import { readFile } from "node:fs/promises";
import { relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { SRC, sources } from "./sources.js";

/** The longest a function may be, in lines. */
const MAX_LINES = 150;
/** The longest a function of on-call code may be: the files whose path says so. */
const MAX_ON_CALL_LINES = 120;
const ON_CALL = /on-?call|oncall/i;

interface Sized {
  /** `src/<path>:<name>`. */
  key: string;
  /** `src/<path>:<line>`. */
  where: string;
  lines: number;
}

/** What a function node is called: its own name, or the name of what holds it (`const f = () => …`, `{ f: () => … }`). */
function nameOf(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name && (ts.isIdentifier(named.name) || ts.isStringLiteral(named.name) || ts.isPrivateIdentifier(named.name))) return named.name.text;
  if (ts.isConstructorDeclaration(node)) return "constructor";
  const p = node.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p)) && ts.isIdentifier(p.name)) return p.name.text;
  return "<anonymous>";
}

const isFunction = (n: ts.Node) =>
  ts.isFunctionDeclaration(n) ||
  ts.isFunctionExpression(n) ||
  ts.isArrowFunction(n) ||
  ts.isMethodDeclaration(n) ||
  ts.isConstructorDeclaration(n) ||
  ts.isGetAccessorDeclaration(n) ||
  ts.isSetAccessorDeclaration(n);

/** Every function of one source file with its length in lines (inner functions too, each on its own). */
function functionSizes(file: string, text: string): Sized[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const out: Sized[] = [];
  const visit = (node: ts.Node) => {
    if (isFunction(node) && (node as ts.FunctionLikeDeclaration).body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ key: `${file}:${nameOf(node)}`, where: `${file}:${first + 1}`, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** The bound of a function of this file. */
const boundOf = (file: string) => (ON_CALL.test(file) ? MAX_ON_CALL_LINES : MAX_LINES);

/** The functions over their bound and not on the allow-list, one line each. */
function offenders(sized: Sized[]): string[] {
  return sized.filter((f) => f.lines > boundOf(f.key.split(":")[0]!)).map((f) => `${f.where} ${f.key.split(":")[1]} is ${f.lines} lines`);
}

describe("the size of functions", () => {
  it(`no function in src/ is over ${MAX_LINES} lines, none in on-call code over ${MAX_ON_CALL_LINES}`, async () => {
    const sized: Sized[] = [];
    for (const path of await sources()) sized.push(...functionSizes(`src/${relative(SRC, path)}`, await readFile(path, "utf8")));
    expect(sized.length).toBeGreaterThan(500); // the scan found the sources
    expect(offenders(sized)).toEqual([]);
  });

  it("a function over its bound is found, with where it starts and its length", () => {
    const body = (n: number) => Array.from({ length: n - 2 }, (_, i) => `  const x${i} = ${i};`).join("\n");
    const text = `export function long() {\n${body(151)}\n}\nconst arrow = () => {\n${body(121)}\n};\nclass C {\n  m() {\n${body(150)}\n  }\n}\n`;
    expect(offenders(functionSizes("src/x.ts", text))).toEqual(["src/x.ts:1 long is 151 lines"]);
    expect(offenders(functionSizes("src/core/oncall/x.ts", text))).toEqual([
      "src/core/oncall/x.ts:1 long is 151 lines",
      "src/core/oncall/x.ts:152 arrow is 121 lines",
      "src/core/oncall/x.ts:274 m is 150 lines",
    ]);
  });
});
