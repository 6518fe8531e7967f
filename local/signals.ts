import { ChildProcess } from 'child_process';
import { once } from 'events';
import { readFileSync } from 'fs';

/** The ids of a process's children, from /proc (Linux). */
function children(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((s) => s !== '').map(Number);
  } catch {
    return [];
  }
}

/**
 * Sends `signal` to a process and all its descendants: a server of many
 * processes (PostgreSQL's postmaster and its backends) stops answering on
 * every connection at once with SIGSTOP, and goes on with SIGCONT.
 */
export function signalTree(pid: number, signal: 'SIGSTOP' | 'SIGCONT'): void {
  const all: number[] = [];
  const visit = (p: number) => {
    all.push(p);
    children(p).forEach(visit);
  };
  visit(pid);
  for (const p of all) {
    try {
      process.kill(p, signal);
    } catch {
      // Gone meanwhile.
    }
  }
}

/** Kills a child process at once (SIGKILL), as a failed host goes, and waits until it has exited; a no-op once it has. */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (child && child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}
