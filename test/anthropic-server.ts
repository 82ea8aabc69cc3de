// A scripted Anthropic Messages API on loopback for the real Claude Code (scripts/anthropic-server.mjs, shared with
// the bench): what it answers is in that file's opening comment.
export { type AnthropicServer, claudeEnv, claudeHome, question, type Recorded, startAnthropicServer, wakeQuestion } from "../scripts/anthropic-server.mjs";
