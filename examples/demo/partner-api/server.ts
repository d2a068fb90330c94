/**
 * One application server of seed 002, as its own process: a few request loops that call the
 * partner API, each call only after `take()` on the shared limiter admitted it. A call that
 * finds the window full waits for the next free slot (FIFO across every server) instead of
 * hearing "sorry" and retrying.
 */
import { connectTarget, type RoleHandle, type RoleIO } from '../role.js';

export interface ServerConfig {
  readonly calls: number;
  /** Request loops in this server (its instances). */
  readonly loops: number;
  /** What this server believes the partner allows: `limit` per `window` ms. */
  readonly limit: number;
  readonly window: number;
}

export async function server({ target, config, send }: RoleIO<ServerConfig>): Promise<RoleHandle> {
  const { calls, loops, limit, window } = config;
  const hf = await connectTarget(target);
  const partner = hf.rateLimiter('partner-api', { limit, window });

  async function loop(share: number): Promise<void> {
    for (let i = 0; i < share; i++) {
      const asked = performance.now();
      try {
        const slot = await partner.take(1, { wait: 10_000 });
        // slot.at: the backend's clock at the admission, the partner's view of when we called.
        send({ type: 'call', at: slot.at, waited: performance.now() - asked });
        await new Promise((resolve) => setTimeout(resolve, 15)); // the call itself
      } catch (error) {
        send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  return {
    onMessage: async (message) => {
      if (message.type !== 'go') return;
      const shares = Array.from({ length: loops }, (_, i) => Math.floor((calls + i) / loops));
      await Promise.all(shares.map(loop));
      send({ type: 'done' });
    },
    stop: () => hf.close(),
  };
}
