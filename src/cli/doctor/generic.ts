/**
 * Doctor checks through the public API, for any backend: can it be reached, does a lock round
 * trip work, how long a round trip takes, and (from the time stamps of its events) how far its
 * clock is from this host's. The holdfast:// server and memory:// add what applies to them.
 */
import { hostname } from 'node:os';
import { connect, type Holdfast, ValidationError } from '../../index.js';
import { redact } from '../output.js';
import { latencyCheck, localNow, type Sample, skewCheck } from './clock.js';
import { type Finding, finding } from './finding.js';
import { message } from './redis-info.js';

const SAMPLES = 7;

export async function genericChecks(
  url: string,
  prefix: string,
  extra: (hf: Holdfast) => Promise<Finding[]>,
): Promise<Finding[]> {
  let hf: Holdfast;
  try {
    hf = await connect(url, { prefix, allowEviction: true });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    return [finding('reach', 'fail', `cannot connect: ${message(error)}`, 'start the backend, or check --url')];
  }
  const findings = [finding('reach', 'ok', `connected to ${redact(url)}`)];
  try {
    const probe = `doctor:${hostname()}:${process.pid}`;
    const stream = hf.watch(probe);
    // A backend without events still gets every other check.
    const events = await stream.ready.then(
      () => true,
      () => false,
    );
    const samples: Sample[] = [];
    const rtts: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const sent = localNow();
      const lease = await hf.mutex(probe, { ttl: 5000 }).tryAcquire();
      const received = localNow();
      rtts.push(received - sent);
      if (lease === null) {
        findings.push(
          finding('lock', 'fail', `the probe lock ${probe} is held by someone else`, `holdfast inspect ${probe}`),
        );
        return findings;
      }
      await lease.release();
      const event = events ? await nextAcquired(stream) : null;
      if (event !== null) samples.push({ sent, received, remote: event });
    }
    await stream.close();
    findings.push(finding('lock', 'ok', `acquired and released ${probe} ${SAMPLES} times`));
    findings.push(latencyCheck(rtts));
    if (!url.startsWith('memory:')) findings.push(skewCheck(samples, 'time stamps of lock events'));
    findings.push(...(await extra(hf)));
    return findings;
  } catch (error) {
    findings.push(finding('lock', 'fail', `a lock round trip failed: ${message(error)}`));
    return findings;
  } finally {
    await hf.close();
  }
}

/** The backend time (ms since the epoch) of the next `acquired` event, or null after a while. */
async function nextAcquired(stream: AsyncIterator<{ type: string; at: number }>): Promise<number | null> {
  const timeout = new Promise<null>((resolve) => setTimeout(resolve, 2000, null).unref());
  try {
    for (;;) {
      const next = await Promise.race([stream.next(), timeout]);
      if (next === null || next.done) return null;
      if (next.value.type === 'acquired') return next.value.at;
    }
  } catch {
    return null;
  }
}
