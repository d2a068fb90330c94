/**
 * Runs a command while a lease holds (`holdfast lock`): the child inherits stdio, gets the
 * lease's name and fence in its environment, receives the signals holdfast receives, and is
 * stopped (SIGTERM, then SIGKILL after a grace period) the moment the lease is lost — a holder
 * that keeps writing after losing its lock is what fences exist to catch, and it is better
 * stopped.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Lease } from '../index.js';

/** Signals passed on to the command: whoever stops holdfast means to stop the command. */
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const;

export type Outcome =
  /** The command ran and ended on its own (or by a forwarded signal). */
  | { readonly kind: 'exited'; readonly status: number }
  /** The lease was lost while it ran; it was stopped. */
  | { readonly kind: 'lost'; readonly reason: string }
  /** It could not be started at all (126: not executable, 127: not found, as shells say). */
  | { readonly kind: 'not-started'; readonly status: number; readonly reason: string };

export interface SuperviseOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly lease: Lease;
  /** ms between SIGTERM and SIGKILL once the lease is lost. */
  readonly grace: number;
  /** Told the moment the lease is lost, before the command is stopped. */
  readonly onLost: (reason: string) => void;
}

export function supervise({ command, args, lease, grace, onLost }: SuperviseOptions): Promise<Outcome> {
  const env = { ...process.env, HOLDFAST_NAME: lease.name, HOLDFAST_FENCE: lease.fence.toString() };
  const child = spawn(command, args, { stdio: 'inherit', env });
  let lost: string | null = null;
  let killer: NodeJS.Timeout | undefined;
  const forward = (signal: NodeJS.Signals): void => {
    child.kill(signal);
  };
  const onAbort = (): void => {
    const reason = lease.signal.reason;
    lost = reason instanceof Error ? reason.message : String(reason);
    onLost(lost);
    child.kill('SIGTERM');
    killer = setTimeout(() => child.kill('SIGKILL'), grace);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  lease.signal.addEventListener('abort', onAbort, { once: true });
  const cleanUp = (): void => {
    for (const signal of FORWARDED) process.off(signal, forward);
    lease.signal.removeEventListener('abort', onAbort);
    clearTimeout(killer);
  };
  return new Promise((resolve) => {
    // A child that never started emits 'error' (and no 'exit'); a failed kill() emits one too.
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return;
      cleanUp();
      const status = error.code === 'ENOENT' ? 127 : 126;
      resolve({ kind: 'not-started', status, reason: `cannot run ${command}: ${error.code ?? error.message}` });
    });
    child.once('exit', (code, signal) => {
      cleanUp();
      if (lost !== null) resolve({ kind: 'lost', reason: lost });
      else resolve({ kind: 'exited', status: code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0) });
    });
  });
}
