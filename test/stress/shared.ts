/** What the stress test and its workers agree on. */

/** The plain Redis keys the workers write inside the critical section, under the run's prefix. */
export function stressKeys(prefix: string): { counter: string; inside: string; done: string; seq: string } {
  return {
    counter: `${prefix}test:counter`,
    inside: `${prefix}test:inside`,
    done: `${prefix}test:done`,
    /** The shared sequence that stamps the start and end of every hold (worker.ts). */
    seq: `${prefix}test:seq`,
  };
}

export const WORKER = new URL('./worker.ts', import.meta.url);
