// CPU accounting for the benchmarks, from /proc (Linux): the main thread, local PostgreSQL, the machine.
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const clockTicks = 100; // USER_HZ, 100 on every Linux in practice

/** Whether a postgres:// URL points at this machine (so its processes can be seen in /proc). */
export function isLocalHost(url: string): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(new URL(url).hostname);
}

/** CPU seconds of a /proc stat line (utime + stime), and its command name. */
function statTimes(stat: string): { comm: string; user: number; sys: number } {
  const close = stat.lastIndexOf(')');
  const fields = stat.slice(close + 2).split(' ');
  return {
    comm: stat.slice(stat.indexOf('(') + 1, close),
    user: Number(fields[11]) / clockTicks,
    sys: Number(fields[12]) / clockTicks,
  };
}

/**
 * CPU seconds of each process named postgres on this machine (backends and background workers; with
 * `database`, only the backends connected to it), or null when there are none to see (not Linux, or
 * no PostgreSQL here).
 */
export function postgresTimes(database?: string): Map<number, number> | null {
  const times = new Map<number, number>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const t = statTimes(readFileSync(`/proc/${entry}/stat`, 'utf8'));
        if (t.comm !== 'postgres') continue;
        // A backend's title: "postgres: 15/main: <user> <database> <client> <state>".
        if (database && !readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(` ${database} `)) continue;
        times.set(Number(entry), t.user + t.sys);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    return null;
  }
  return times.size > 0 ? times : null;
}

/**
 * CPU seconds the postgres processes used between two readings; a backend that exited meanwhile is lost, one that
 * started counts whole.
 */
export function postgresDelta(from: Map<number, number>, to: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of to) total += seconds - (from.get(pid) ?? 0);
  return total;
}

/** User and system CPU seconds of the main thread (its task id is the process id), or null off Linux. */
export function mainThreadTimes(): { user: number; sys: number } | null {
  try {
    const { user, sys } = statTimes(readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8'));
    return { user, sys };
  } catch {
    return null;
  }
}

export function machineTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    const all = t.user + t.nice + t.sys + t.idle + t.irq;
    total += all;
    busy += all - t.idle;
  }
  return { busy, total };
}
