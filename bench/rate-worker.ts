/**
 * One of the hammering processes of the rate-limiter throughput measure (started by rate.ts):
 * `loops` async loops call tryTake on one key from `startAt` for `duration` ms (after warming
 * up on another key until just before `startAt`), and report the decisions and the admission
 * times (see Decision.at: the server's clock for holdfast, this process's receive time for the
 * peer).
 */
import { type Command, serveWith } from './ipc.js';
import { openRateLimiter, type RateLib } from './rate-libs.js';
import { lanes, sleep, wallNow } from './stats.js';

export interface HammerCommand extends Command {
  readonly cmd: 'hammer';
  readonly key: string;
  /** Wall-clock ms (see wallNow) at which every worker starts; each warms up until shortly before. */
  readonly startAt: number;
  readonly duration: number;
  readonly loops: number;
}

export interface HammerResult {
  /** Decisions answered inside the window (admitted or refused). */
  readonly decisions: number;
  /** Decision.at of every admission, including any answered after the window closed. */
  readonly admitted: number[];
  /** Decision.expiresIn of the same admissions (rate-limiter-flexible only, else empty). */
  readonly expiresIn: number[];
  /** Calls that failed (not a refusal), by error name. */
  readonly failures: Record<string, number>;
}

serveWith(
  (lib, url) => openRateLimiter(lib as RateLib, url),
  async (command, limiter): Promise<HammerResult> => {
    const { key, startAt, duration, loops } = command as HammerCommand;
    const warmUntil = startAt - 30;
    await lanes(loops, async () => {
      while (wallNow() < warmUntil) await limiter.tryTake(`${key}:warm`);
    });
    await sleep(Math.max(0, startAt - wallNow()));
    const end = startAt + duration;
    let decisions = 0;
    const admitted: number[] = [];
    const expiresIn: number[] = [];
    const failures: Record<string, number> = {};
    await lanes(loops, async () => {
      while (wallNow() < end) {
        try {
          const decision = await limiter.tryTake(key);
          if (wallNow() <= end) decisions++;
          if (decision.allowed) {
            admitted.push(decision.at);
            if (decision.expiresIn !== undefined) expiresIn.push(decision.expiresIn);
          }
        } catch (error) {
          const name = error instanceof Error ? error.name : 'unknown';
          failures[name] = (failures[name] ?? 0) + 1;
        }
      }
    });
    return { decisions, admitted, expiresIn, failures };
  },
);
