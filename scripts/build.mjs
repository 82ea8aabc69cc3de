// `npm run build`: coord as the package ships it, from src/ with esbuild (types are tsc's job: `npm run typecheck`,
// which `npm test` and `npm pack` run first). Three parts:
// - dist/**/*.js, each src/ module as it is (with its source map), for the tests, the bench and the scripts that
//   import coord's modules one by one;
// - dist/coord.mjs, the executable (src/cli/entry.ts), an ES module split into
//   small chunks (dist/chunks/): it answers a quiet `coord sync` with little
//   loaded, and starts a sync's fetch or init's clone before the CLI loads;
// - dist/chunks/cli.cjs, the CLI (src/cli/main.ts) and its dependencies in one
//   CommonJS file, which dist/coord.mjs loads through src/startup/code-cache.ts with
//   V8's code cache: Node 20 keeps no code cache for ES modules, and compiling
//   the CLI's code was the largest cost of a sync after Node's own start.
// One file each instead of several hundred modules: Node's ESM loader pays per
// file (0.5 s of start-up became about 0.2 s on a small machine).
// What the split buys, and the bench row that shows it: src/startup/tricks.ts.
// The modules were tsc's output until tsc checked src twice in `npm test` (once to emit, once with test/):
// esbuild writes them in half a second, and one tsc run checks everything.
import { build } from "esbuild";

import { readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

rmSync("dist/chunks", { recursive: true, force: true }); // chunks of an older build

/** Every module of src/, as a path. */
function modules(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? modules(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [join(dir, e.name)] : [],
  );
}

// Each module on its own (no bundling: imports stay as written, `./x.js`), as tsc wrote them: ES2022 for Node 20.
await build({
  entryPoints: modules("src"),
  outdir: "dist",
  outbase: "src",
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
});

/** What both parts leave out or change in their dependencies. */
const plugins = [
  {
    // zod re-exports its 64 message locales (z.locales), a sixth of the CLI's code to compile at every start;
    // coord uses English only (zod's default, imported by zod itself): the index of the others is left out.
    name: "zod-english-only",
    setup(b) {
      b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
        contents: 'export { default as en } from "./en.js";',
        resolveDir: "node_modules/zod/v4/locales",
      }));
    },
  },
];

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  // The ESM builds of dependencies that ship both (jsonc-parser's UMD build requires its files by path).
  mainFields: ["module", "main"],
  // Less to scan at every start; names stay, so stack traces (COORD_DEBUG=1) still say which function, and the
  // linked source map says where.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: "linked",
  legalComments: "linked",
  logLevel: "warning",
};

await build({
  ...common,
  // entry.js answers a quiet `coord sync` with little loaded, and imports the CLI (main.js) only when it must:
  // here that import is src/startup/code-cache.ts, which loads the CommonJS CLI below with its code cache.
  entryPoints: { coord: "dist/cli/entry.js" },
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  format: "esm",
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
  plugins: [
    ...plugins,
    {
      name: "cli-from-its-code-cache",
      setup(b) {
        b.onResolve({ filter: /^\.\/main\.js$/ }, (args) =>
          resolve(args.importer) === resolve("dist/cli/entry.js") ? { path: resolve("dist/startup/code-cache.js") } : undefined,
        );
      },
    },
  ],
});

await build({
  ...common,
  // The CLI in one CommonJS file: src/startup/code-cache.ts finds it beside its own chunk.
  entryPoints: { cli: "dist/cli/main.js" },
  outdir: "dist/chunks",
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  // import.meta.url (src/package.ts finds package.json from it) as the file's URL.
  define: { "import.meta.url": "__coordImportMetaUrl" },
  banner: { js: '"use strict";var __coordImportMetaUrl = require("node:url").pathToFileURL(__filename).href;' },
  plugins,
});
