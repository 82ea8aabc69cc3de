// Markdown files whose YAML front matter is the data and whose body is a view.
//
// gray-matter is always called with options: that turns off its input cache,
// makes the `yaml` package the only YAML engine, and replaces the js/javascript
// engines (which would eval `---js` front matter from a shared repository)
// with ones that refuse.
import matter from "gray-matter";
import YAML from "yaml";
import { MAX_DEPTH, yamlDepth } from "./limits.js";

function refuse(): never {
  throw new Error("front matter in JavaScript is not allowed; use YAML");
}

interface Options extends matter.GrayMatterOption<string, Options> {}

const OPTIONS: Options = {
  language: "yaml",
  engines: {
    yaml: {
      parse: (text: string) => {
        // yaml's parser recurses per level: bound the depth first (a RangeError would depend on the caller's stack).
        // `text` starts with the newline after the opening ---, so its lines are the file's.
        const deep = yamlDepth(text, MAX_DEPTH);
        if (deep.line !== undefined) throw new Error(`the front matter nests more than ${MAX_DEPTH} levels deep (line ${deep.line}); coord's files need a few levels`);
        return YAML.parse(text, { schema: "core", maxAliasCount: 100 }) as object;
      },
      stringify: (data: object) => YAML.stringify(data),
    },
    js: { parse: refuse, stringify: refuse },
    javascript: { parse: refuse, stringify: refuse },
  },
};

export interface FrontMatterDoc {
  data: unknown;
  body: string;
}

/** Parses a front-matter document; throws an Error with a readable message when it is not one. */
export function parseFrontMatter(text: string): FrontMatterDoc {
  if (!/^---\r?\n/.test(text)) throw new Error("the file does not start with YAML front matter (a line ---)");
  const parsed = matter(text, OPTIONS);
  return { data: parsed.data, body: parsed.content };
}

/** Renders data as YAML front matter followed by the body; deterministic for the same input. */
export function renderFrontMatter(data: object, body: string): string {
  const yaml = YAML.stringify(data, { lineWidth: 0, sortMapEntries: false });
  // The closing comment ends any block scalar before the delimiter: gray-matter takes the last
  // newline before `---` as its own, which would shorten a text that ends in blank lines.
  return `---\n${yaml}# end of data\n---\n\n${body.replace(/\s+$/, "")}\n`;
}

/** A schema problem of front matter data as one phrase: "field orders.valid is missing (a boolean)". */
export function dataProblem(issue: { path: PropertyKey[]; message: string }, whole = "the front matter"): string {
  const where = issue.path.length ? `field ${issue.path.map(String).join(".")}` : whole;
  const missing = /^Invalid input: expected (\w+), received undefined$/.exec(issue.message);
  return missing ? `${where} is missing (it must be a ${missing[1]})` : `${where}: ${issue.message}`;
}
