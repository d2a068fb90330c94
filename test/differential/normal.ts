/**
 * How the differential test compares what two engines said: fences as the ms they were minted
 * at (and checked to grow per name on each engine), simultaneous removals in any order, errors
 * by their code.
 */
import assert from 'node:assert/strict';
import type { Backend, EventCapability, RateCapability } from '../../src/backend.js';
import { HoldfastError } from '../../src/errors.js';
import { WALL_ORIGIN } from './engines.js';

export type Normal = unknown;

/** What one engine has shown so far: fences per name, to check they only grow. */
export class FenceLog {
  readonly #seen = new Map<string, Set<bigint>>();
  readonly #max = new Map<string, bigint>();
  #fresh: Array<[string, bigint]> = [];

  note(name: string, fence: bigint): void {
    const seen = this.#seen.get(name) ?? new Set<bigint>();
    this.#seen.set(name, seen);
    if (seen.has(fence)) return;
    seen.add(fence);
    this.#fresh.push([name, fence]);
  }

  /** Every fence first seen during this step is above every fence of its name seen before it. */
  endStep(label: string, step: number): void {
    const before = new Map(this.#max);
    for (const [name, fence] of this.#fresh) {
      const max = before.get(name);
      assert.ok(
        max === undefined || fence > max,
        `${label}: new fence ${fence} of ${name} at step ${step} is not above ${max}`,
      );
      if ((this.#max.get(name) ?? -1n) < fence) this.#max.set(name, fence);
    }
    this.#fresh = [];
  }
}

export function instant(fence: bigint): number {
  return Number((fence - WALL_ORIGIN) / 1000n);
}

/**
 * Removals in one step have no order in the contract: memory reports simultaneous expiries and
 * a force-release's holders in queue (grant) order, Redis in expiry order with ties by token
 * (its sorted sets). Runs of `expired`, `left` or `lost` events at the same T are sorted;
 * everything else keeps its order.
 */
export function simultaneousSorted(events: readonly string[]): string[] {
  const key = (event: string): string | null => {
    const type = event.split(' ', 1)[0];
    return type === 'expired' || type === 'left' || type === 'lost' ? `${type} ${/ T=(\d+) /.exec(event)?.[1]}` : null;
  };
  const out: string[] = [];
  let run: string[] = [];
  const flush = (): void => {
    out.push(...run.sort());
    run = [];
  };
  for (const event of events) {
    const k = key(event);
    if (k === null || (run.length > 0 && key(run[0] as string) !== k)) flush();
    if (k === null) out.push(event);
    else run.push(event);
  }
  flush();
  return out;
}

export function rates(backend: Backend): RateCapability {
  if (backend.rates === undefined) throw new Error(`the ${backend.label} backend has no rates`);
  return backend.rates;
}

export function events(backend: Backend): EventCapability {
  if (backend.events === undefined) throw new Error(`the ${backend.label} backend has no events`);
  return backend.events;
}

/** The value, or the error's code: both engines must fail the same way too. */
export async function outcome(call: () => Promise<Normal>): Promise<Normal> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof HoldfastError) return { error: error.code };
    throw error;
  }
}
