import type { ClientCore } from '../engine/core.js';
import type { Lease } from '../engine/lease.js';
import { EventStream, type LockEvent } from '../engine/watch.js';
import type { Json } from '../owner.js';
import { escapeGlob } from '../util/glob.js';
import { checkName, checkOptions, checkSignal, optional } from '../util/validate.js';
import { FixedLock } from './fixed-lock.js';
import { type LeaseOptions, lockSpec, parseLeaseOptions } from './lease-options.js';

export type ElectionOptions = Omit<LeaseOptions, 'owner'>;

export interface CampaignOptions {
  /** What the leader publishes while it leads (e.g. its address), shown by `leader()`. */
  readonly value?: Json;
  /** Stops campaigning; the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

export interface Leader {
  readonly value: Json;
  readonly fence: bigint;
}

/**
 * Leader election over a lease: `campaign()` resolves when this process leads, with a fenced
 * Lease whose signal aborts if leadership is lost. At most one leader holds a valid lease at
 * any instant; candidates wait in FIFO order (no polling).
 */
export class Election {
  readonly name: string;
  readonly #core: ClientCore;
  readonly #lock: FixedLock;
  #lease: Lease | null = null;

  /** @internal use `hf.election(name, options)`. */
  constructor(core: ClientCore, name: unknown, options?: ElectionOptions) {
    this.name = checkName(name);
    const parsed = parseLeaseOptions(
      checkOptions<ElectionOptions>(options, ['ttl', 'autoExtend', 'waitReplicas'], 'election options'),
    );
    this.#core = core;
    this.#lock = new FixedLock(core, lockSpec(this.name, 'election', 1, 1, parsed));
  }

  /** Waits until this process leads; resolves with its lease. */
  async campaign(options?: CampaignOptions): Promise<Lease> {
    const raw = checkOptions<CampaignOptions>(options, ['value', 'signal'], 'campaign options');
    const signal = optional(raw.signal, (v) => checkSignal(v));
    const lease = await this.#lock.acquire({
      ...(raw.value === undefined ? {} : { owner: raw.value }),
      ...(signal === undefined ? {} : { signal }),
    });
    this.#lease = lease;
    return lease;
  }

  /** Steps down (if this object leads); true when it still led. */
  async resign(): Promise<boolean> {
    const lease = this.#lease;
    this.#lease = null;
    return lease ? lease.release() : false;
  }

  /** Who leads now, or null. */
  async leader(): Promise<Leader | null> {
    const state = await this.#core.backend.inspect(this.name);
    const holder = state?.holders[0];
    return holder ? { value: holder.owner, fence: holder.fence } : null;
  }

  /** The current leader, then every change (null while nobody leads), until `signal` aborts. */
  async *observe(options?: { readonly signal?: AbortSignal }): AsyncGenerator<Leader | null> {
    const raw = checkOptions<{ signal?: AbortSignal }>(options, ['signal'], 'observe options');
    const signal = optional(raw.signal, (v) => checkSignal(v));
    const events = new EventStream(this.#core, escapeGlob(this.name), signal);
    try {
      await events.ready;
      let last: bigint | null | undefined;
      const current = await this.leader();
      last = current?.fence ?? null;
      yield current;
      for await (const event of events) {
        const next = leaderAfter(event);
        if (next === undefined) continue;
        const fence = next?.fence ?? null;
        if (fence === last) continue;
        last = fence;
        yield next;
      }
    } finally {
      await events.close();
    }
  }
}

/** The leader after `event`: a new one, nobody (null), or undefined when leadership did not change. */
function leaderAfter(event: LockEvent): Leader | null | undefined {
  if (event.type === 'acquired' || event.type === 'handoff') return { value: event.owner, fence: event.fence ?? 0n };
  if (event.type === 'released' || event.type === 'expired' || event.type === 'lost') return null;
  return undefined;
}
