// The CPU time of a job's processes that /usr/bin/time cannot see. /usr/bin/time counts a command and the
// descendants it (and they) waited for; a code-server job also starts processes that are orphaned before they end
// (code-server stops its extension host without waiting for it; the rehearsal emulator is detached on purpose, and
// its ffmpeg renders with it), and their CPU never reaches the command. Measured: an integration run whose
// /usr/bin/time said 96 s had burned over 370 s in its process tree (Chromium and the extension host most).
//
// So npm test samples /proc every second: every process whose parent belongs to a job belongs to it too, and a
// process of a job seen with a parent outside the job (orphaned, adopted by init) is counted here, its own time and
// its children's, as last seen. A job's CPU is then /usr/bin/time's figure plus its orphans'. Linux only; elsewhere
// (no /proc) it adds nothing.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TICK = 100; // USER_HZ: clock ticks per second in /proc/<pid>/stat, 100 on Linux

/** @returns {Map<number, { ppid: number, own: number, kids: number, key: string }>} every process now, times in seconds; `key` tells a process from a later one with its pid */
function snapshot() {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // The command name is in parentheses and may hold spaces: the fields after its closing one.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Field n of proc(5) is f[n - 3]: ppid (4), utime, stime, cutime, cstime (14-17), starttime (22).
    all.set(Number(name), { ppid: Number(f[1]), own: (Number(f[11]) + Number(f[12])) / TICK, kids: (Number(f[13]) + Number(f[14])) / TICK, key: `${name}@${f[19]}` });
  }
  return all;
}

export class TreeCpu {
  /** @type {Map<string, { keys: Set<string>, orphans: Map<string, number>, root: number }>} */
  jobs = new Map();
  timer = undefined;

  static available() {
    return existsSync('/proc/self/stat');
  }

  /** Counts `pid` (a job's first process) and whatever it starts as the job `name`'s. */
  track(name, pid) {
    if (!TreeCpu.available() || !pid) return;
    const p = snapshot().get(pid);
    if (!p) return;
    this.jobs.set(name, { keys: new Set([p.key]), orphans: new Map(), root: pid });
    this.timer ??= setInterval(() => this.sample(), 1000);
    this.timer.unref?.();
  }

  sample() {
    const all = snapshot();
    const children = new Map();
    for (const [pid, p] of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), pid]);
    for (const job of this.jobs.values()) {
      const queue = [...all].filter(([, p]) => job.keys.has(p.key)).map(([pid]) => pid);
      while (queue.length) {
        for (const kid of children.get(queue.pop()) ?? []) {
          const key = all.get(kid).key;
          if (!job.keys.has(key)) {
            job.keys.add(key);
            queue.push(kid);
          }
        }
      }
      for (const [pid, p] of all) {
        if (pid === job.root || !job.keys.has(p.key)) continue;
        const parent = all.get(p.ppid);
        if (!parent || !job.keys.has(parent.key) || job.orphans.has(p.key)) job.orphans.set(p.key, p.own + p.kids);
      }
    }
  }

  /** The CPU seconds of job `name`'s orphans so far; stops following it. */
  finish(name) {
    const job = this.jobs.get(name);
    if (!job) return 0;
    this.sample();
    this.jobs.delete(name);
    if (this.jobs.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    return [...job.orphans.values()].reduce((a, b) => a + b, 0);
  }
}
