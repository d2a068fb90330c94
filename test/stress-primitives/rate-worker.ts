/**
 * One rate-limiter stress worker: `rate-worker.ts <url> <prefix> <name> <try|take> <limit> <window>`.
 * Reports `ready`, then waits for `go` with `until` (a time on the shared clock), and until then
 * either hammers `tryTake()` (one call in flight at a time) or loops on `take(1)`, which waits in
 * the limiter's FIFO queue; the wait still pending at `until` is aborted. Reports `done` with the
 * backend-clock time (`at`) of every admission it got, and how many refusals it saw.
 */
import { connect, type TakeResult } from '../../src/index.js';
import { type Message, nextMessage, report, runChild } from '../helpers/child.js';
import { wallNow } from './shared.js';

const [url = '', prefix = '', name = '', mode = '', limitArg = '', windowArg = ''] = process.argv.slice(2);

interface Go extends Message {
  readonly until: number;
}

runChild(async () => {
  const hf = await connect(url, { prefix });
  const limiter = hf.rateLimiter(name, { limit: Number(limitArg), window: Number(windowArg) });
  const admitted: number[] = [];
  let refused = 0;
  let badResults = 0;
  /** An admitted result must say so consistently: no retry, a reset after the decision. */
  const note = (result: TakeResult): void => {
    if (!result.allowed) {
      refused++;
      if (!(result.retryAfter > 0)) badResults++;
      return;
    }
    admitted.push(result.at);
    if (result.retryAfter !== 0 || result.resetAt <= result.at || result.remaining < 0) badResults++;
  };

  await report({ type: 'ready' });
  const { until } = await nextMessage<Go>('go');
  if (mode === 'try') {
    while (wallNow() < until) note(await limiter.tryTake());
  } else {
    const stop = new AbortController();
    const timer = setTimeout(() => stop.abort(new Error('time is up')), Math.max(0, until - wallNow()));
    try {
      for (;;) note(await limiter.take(1, { signal: stop.signal }));
    } catch (error) {
      if (!stop.signal.aborted) throw error;
    } finally {
      clearTimeout(timer);
    }
  }
  await report({ type: 'done', admitted, refused, badResults });
  await hf.close();
});
