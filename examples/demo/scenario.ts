/** What every scenario of the demo gets and gives back. */
import { connect, type Holdfast } from '../../src/index.js';
import type { Display } from './display.js';
import type { Target } from './protocol.js';
import type { Hosts } from './workers.js';

export interface ScenarioContext {
  readonly target: Target;
  /** The worker processes, already booted; each scenario gives them roles. */
  readonly hosts: Hosts;
  readonly display: Display;
  /** Shortened: fewer tasks, calls and ticks (the test runs it so). */
  readonly quick: boolean;
}

export interface ScenarioResult {
  readonly ok: boolean;
  /** The verified summary, one line. */
  readonly summary: string;
  /** Supporting lines, and every problem found when a check failed. */
  readonly details: readonly string[];
}

/** The demo's own client, e.g. to watch events independently of the workers. */
export function observer(ctx: ScenarioContext): Promise<Holdfast> {
  return connect(ctx.target.url, { prefix: ctx.target.prefix });
}

/** A scenario that could not run to its end (a worker crashed, time ran out): a failure. */
export function crashed(error: unknown): ScenarioResult {
  const message = error instanceof Error ? error.message : String(error);
  return { ok: false, summary: 'did not complete', details: message.split('\n').filter(Boolean) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
