// The seccomp filter an agent's sandbox runs under: no unix socket can be made
// (socket(AF_UNIX, …) fails with EPERM), so that nothing outside the sandbox
// that listens on one (a tmux or screen server, an ssh-agent, a credential
// cache, X11's abstract socket, a system bus) can be asked to run or sign
// something for the agent. socketpair(2) is untouched: a process still gets
// pipes to its children (libuv's stdio). io_uring, which makes and connects
// sockets without socket(2), is refused whole. Claude Code's own sandbox
// refuses the same. Pure: classic BPF as bubblewrap's --seccomp reads it (struct
// sock_filter, native byte order), for the two architectures coord runs on.

/** The architectures the filter knows (process.arch's names): another gets none, and the sandbox says so. */
export const SECCOMP_ARCHES = ["x64", "arm64"] as const;

const AUDIT_ARCH: Record<(typeof SECCOMP_ARCHES)[number], number> = { x64: 0xc000003e, arm64: 0xc00000b7 };
const SOCKET_NR: Record<(typeof SECCOMP_ARCHES)[number], number> = { x64: 41, arm64: 198 };
const AF_UNIX = 1;
// The same numbers on x86-64 and arm64 (the calls added after the tables were unified).
const IO_URING_SETUP = 425;
const IO_URING_ENTER = 426;
const IO_URING_REGISTER = 427;
const EPERM = 1;

// BPF opcodes: load a word at an absolute offset of struct seccomp_data, jump if equal / greater or equal, return.
const LD_ABS = 0x20;
const JEQ = 0x15;
const JGE = 0x35;
const RET = 0x06;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
// struct seccomp_data: int nr; u32 arch; u64 instruction_pointer; u64 args[6] (the low word of args[0] at 16, little endian).
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;
const X32_BIT = 0x40000000;

export interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** The program for `arch`, or undefined for an architecture it does not know. */
export function unixSocketFilter(arch: string): Instruction[] | undefined {
  if (!(SECCOMP_ARCHES as readonly string[]).includes(arch)) return undefined;
  const a = arch as (typeof SECCOMP_ARCHES)[number];
  const i = (code: number, k: number, jt = 0, jf = 0): Instruction => ({ code, jt, jf, k });
  return [
    i(LD_ABS, ARCH),
    i(JEQ, AUDIT_ARCH[a], 1, 0), // this architecture: go on; another (a 32-bit call into a 64-bit kernel): killed
    i(RET, SECCOMP_RET_KILL_PROCESS),
    i(LD_ABS, NR),
    i(JGE, X32_BIT, 0, 1), // the x32 ABI's calls: killed, they would pass under other numbers
    i(RET, SECCOMP_RET_KILL_PROCESS),
    // io_uring makes sockets and connects them without socket(2) (IORING_OP_SOCKET): none of it for the agent.
    i(JEQ, IO_URING_SETUP, 5, 0),
    i(JEQ, IO_URING_ENTER, 4, 0),
    i(JEQ, IO_URING_REGISTER, 3, 0),
    i(JEQ, SOCKET_NR[a], 0, 3),
    i(LD_ABS, ARG0_LOW),
    i(JEQ, AF_UNIX, 0, 1),
    i(RET, SECCOMP_RET_ERRNO | EPERM),
    i(RET, SECCOMP_RET_ALLOW),
  ];
}

/** The program as bytes (8 a instruction, little endian: both architectures are). */
export function filterBytes(program: readonly Instruction[]): Uint8Array {
  const out = new Uint8Array(program.length * 8);
  const view = new DataView(out.buffer);
  program.forEach((ins, n) => {
    view.setUint16(n * 8, ins.code, true);
    view.setUint8(n * 8 + 2, ins.jt);
    view.setUint8(n * 8 + 3, ins.jf);
    view.setUint32(n * 8 + 4, ins.k >>> 0, true);
  });
  return out;
}
