/**
 * CPU pinning with taskset(1), so a measure knows which core each process runs on: Redis and
 * the embedded server on SERVER_CPU, the bench and its workers on CLIENT_CPU (or, for a
 * same-core pass, on SERVER_CPU too). Without taskset or with one CPU nothing is pinned, and
 * the output says so.
 */
import { execFileSync } from 'node:child_process';
import { cpus } from 'node:os';

export const SERVER_CPU = 0;
export const CLIENT_CPU = 1;

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether processes are pinned in this run. */
export const PINNING = cpus().length >= 2 && hasTaskset();

/** Pins every thread of a running process to `cpu`; false when pinning is off or failed. */
export function pin(pid: number, cpu: number): boolean {
  if (!PINNING) return false;
  try {
    execFileSync('taskset', ['-a', '-c', '-p', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `[command, ...args]` prefixed with taskset for `cpu` (unchanged when pinning is off or cpu is undefined). */
export function pinned(cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] {
  if (!PINNING || cpu === undefined) return [command, [...args]];
  return ['taskset', ['-c', String(cpu), command, ...args]];
}

export function describePinning(): string {
  return PINNING
    ? `Redis and the embedded server pinned to CPU ${SERVER_CPU}; the bench and its workers to CPU ${CLIENT_CPU} unless a row says "same core"`
    : 'not pinned (taskset missing or fewer than 2 CPUs)';
}
