// The fields of /proc/<pid>/stat (Linux, proc(5)) after the command's name, which is in parentheses and may hold
// spaces and parentheses itself: [0] is the state (field 3), [1] the parent (4), [2] the group (5), [3] the session
// (6), [11]-[14] the CPU times (14-17), [19] the start (22). The tests' one reader of it; coord's own is
// src/core/platform/processes.ts parseProcStat, which checks the fields it reads.
export function procStatFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}
