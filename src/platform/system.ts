// Which system this is: the one place coord reads it. Every rule that differs
// between systems takes the system as an argument (core/platform/, a pure
// function tested for linux, darwin and win32); the edges pass this.
/** The system coord runs on (Node's process.platform: "linux", "darwin", "win32", …). */
export const system = (): NodeJS.Platform => process.platform;
