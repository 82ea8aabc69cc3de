// The CLI as one file (npm run build, after tsc): dist/coord.mjs holds coord
// and its dependencies, so a `coord sync` from cron loads one module instead
// of several hundred (Node's ESM loader pays per file: 0.5 s of start-up
// becomes about 0.2 s on a small machine). tsc still checks the types and
// writes dist/ for the tests and the library entry points. The bundle is
// split: dist/coord.mjs is small, and loads the chunks a command needs.
import { build } from "esbuild";

import { rmSync } from "node:fs";

rmSync("dist/chunks", { recursive: true, force: true }); // chunks of an older build

await build({
  // entry.js answers a quiet `coord sync` with little loaded, and imports the CLI (main.js) only when it must:
  // splitting puts what only the CLI needs into chunks of their own (dist/chunks/), loaded then.
  entryPoints: { coord: "dist/cli/entry.js" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // The ESM builds of dependencies that ship both (jsonc-parser's UMD build requires its files by path).
  mainFields: ["module", "main"],
  // CommonJS dependencies call require() for Node's own modules and read __filename: give the bundle both.
  banner: {
    js: [
      'import { createRequire as __coordRequire } from "node:module";',
      'import { fileURLToPath as __coordPath } from "node:url";',
      "const require = __coordRequire(import.meta.url);",
      "const __filename = __coordPath(import.meta.url);",
      'const __dirname = __filename.slice(0, __filename.lastIndexOf("/"));',
    ].join(" "),
  },
  // zod re-exports its 64 message locales (z.locales), a sixth of the CLI's code to compile at every start;
  // coord uses English only (zod's default, imported by zod itself): the index of the others is left out.
  plugins: [
    {
      name: "zod-english-only",
      setup(b) {
        b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
          contents: 'export { default as en } from "./en.js";',
          resolveDir: "node_modules/zod/v4/locales",
        }));
      },
    },
    {
      // gray-matter loads js-yaml (and through it esprima) for its default engines; coord always passes its own
      // (src/core/frontmatter.ts: the yaml package, and js engines that refuse), so js-yaml is never called.
      // A stub that refuses stands in for it: less to evaluate at every start, and no esprima at all.
      name: "no-js-yaml",
      setup(b) {
        b.onLoad({ filter: /[\\/]js-yaml[\\/]index\.js$/ }, () => ({
          contents:
            'const refuse = () => { throw new Error("coord parses YAML with the yaml package only"); }; module.exports = { safeLoad: refuse, safeDump: refuse, load: refuse, dump: refuse };',
          loader: "js",
        }));
      },
    },
  ],
  // Less to scan at every start (about 5-10 ms of a sync here); names stay, so stack traces (COORD_DEBUG=1) still say
  // which function, and the linked source map says where.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
});
