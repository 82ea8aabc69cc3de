// coord inbox -> OpenCode. Copy to .opencode/plugins/coord-inbox.js (project)
// or ~/.config/opencode/plugins/coord-inbox.js (global); loaded at startup.
//
// Follows https://opencode.ai/docs/plugins (local plugin files, named export
// returning a hooks object) and the Hooks interface of @opencode-ai/plugin
// (anomalyco/opencode packages/plugin/src/index.ts):
//   "chat.message"                       runs once per user message
//   "experimental.chat.system.transform" (input: { sessionID?, model },
//                                         output: { system: string[] })
//                                        runs before every LLM call
// OpenCode has no hook whose stdout becomes context, so the inbox is read
// once per user message and pushed onto the system prompt for that turn.
// The hook is marked experimental upstream and may change.
import { exec } from "node:child_process";

const inbox = () =>
  new Promise((resolve) =>
    exec("coord inbox --format prompt --unread", { timeout: 10_000 }, (err, stdout) =>
      resolve(err ? "" : String(stdout).trim()),
    ),
  );

export const CoordInbox = async () => {
  const unread = new Map(); // sessionID -> inbox text as of the latest user message
  return {
    "chat.message": async (input) => {
      unread.set(input.sessionID, await inbox());
    },
    "experimental.chat.system.transform": async (input, output) => {
      const text = input.sessionID && unread.get(input.sessionID);
      if (text) output.system.push(text);
    },
  };
};
