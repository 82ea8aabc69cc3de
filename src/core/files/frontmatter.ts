// Markdown files whose YAML front matter is the data and whose body is a view.
//
// The front matter is split off here and parsed with the `yaml` package, the
// only YAML engine: nothing else ever reads it (no `---js` engine to eval a
// shared repository's text, no cache of inputs). The split is the one
// gray-matter made, which coord used before: the block runs from the opening
// `---` line to the next line that begins with `---`; an empty block (blank or
// only comments) is no data.
import YAML from "yaml";
import { MAX_DEPTH, yamlDepth } from "../limits.js";

/** YAML front matter as data: depth bounded before parsing, the core schema, few aliases, no warnings printed. */
function parseYaml(text: string): unknown {
  // yaml's parser recurses per level: bound the depth first (a RangeError would depend on the caller's stack).
  // `text` starts with the newline after the opening ---, so its lines are the file's.
  const deep = yamlDepth(text, MAX_DEPTH);
  if (deep.line !== undefined) throw new Error(`the front matter nests more than ${MAX_DEPTH} levels deep (line ${deep.line}); coord's files need a few levels`);
  // logLevel "error": yaml would report an unknown tag (`!!js/function`, read as its plain value) through
  // process.emitWarning, which Node prints to stderr, at every read of another machine's file.
  return YAML.parse(text, { schema: "core", maxAliasCount: 100, logLevel: "error" });
}

export interface FrontMatterDoc {
  data: unknown;
  body: string;
}

const CLOSE = "\n---";

/** Parses a front-matter document; throws an Error with a readable message when it is not one. */
export function parseFrontMatter(text: string): FrontMatterDoc {
  if (!/^---\r?\n/.test(text)) throw new Error("the file does not start with YAML front matter (a line ---)");
  const rest = text.slice(3);
  const close = rest.indexOf(CLOSE);
  const block = close === -1 ? rest : rest.slice(0, close);
  let body = close === -1 ? "" : rest.slice(close + CLOSE.length);
  if (body.startsWith("\r")) body = body.slice(1);
  if (body.startsWith("\n")) body = body.slice(1);
  const empty = block.replace(/^\s*#[^\n]+/gm, "").trim() === "";
  return { data: empty ? {} : (parseYaml(block) ?? {}), body };
}

/** Renders data as YAML front matter followed by the body; deterministic for the same input. */
export function renderFrontMatter(data: object, body: string): string {
  const doc = new YAML.Document(data, { sortMapEntries: false });
  // yaml writes a text of blank lines only, one starting with a space (" \n"), as a block scalar without the
  // indentation indicator it needs, and reads it back without those spaces: such a text is written quoted.
  YAML.visit(doc, {
    Scalar(_, node) {
      if (typeof node.value === "string" && /^\s*\n\s*$/.test(node.value) && /(^|\n)[ \t]/.test(node.value)) node.type = "QUOTE_DOUBLE";
    },
  });
  const yaml = doc.toString({ lineWidth: 0 });
  // The closing comment ends any block scalar before the delimiter: the split takes the last
  // newline before `---` as its own, which would shorten a text that ends in blank lines.
  return `---\n${yaml}# end of data\n---\n\n${body.replace(/\s+$/, "")}\n`;
}

/** A schema problem of front matter data as one phrase: "field orders.valid is missing (a boolean)". */
export function dataProblem(issue: { path: PropertyKey[]; message: string }, whole = "the front matter"): string {
  const where = issue.path.length ? `field ${issue.path.map(String).join(".")}` : whole;
  const missing = /^Invalid input: expected (\w+), received undefined$/.exec(issue.message);
  return missing ? `${where} is missing (it must be a ${missing[1]})` : `${where}: ${issue.message}`;
}
