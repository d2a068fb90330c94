/**
 * The store operations every command goes through, low-level or blocking alike: names are
 * placed in the connection's namespace, the connection's limits are checked, and its ledger
 * keeps count of what it holds and awaits.
 */
import type { AcquireRequest, AcquireResult, RateRequest, RateResult } from '../../backend.js';
import type { SessionView } from '../session.js';
import { CommandError } from './args.js';

/** Ledger keys: a lock and a rate limiter of the same name are two things in the store. */
const lockKey = (session: SessionView, name: string): string => `L${session.key(name)}`;
const rateKey = (session: SessionView, name: string): string => `R${session.key(name)}`;

function checkNames(session: SessionView, ledgerKey: string): void {
  const max = session.ctx.limits.maxNamesPerClient;
  if (session.ledger.tooManyNames(ledgerKey, max, session.now())) {
    throw new CommandError('LIMIT', `this connection already uses ${max} names`);
  }
}

function checkConnectionWaiters(session: SessionView, token: string): void {
  const max = session.ctx.limits.maxWaitersPerConnection;
  if (session.ledger.tooManyWaiters(token, max, session.now())) {
    throw new CommandError('LIMIT', `this connection already has ${max} waiters`);
  }
}

function tooManyOnKey(): CommandError {
  return new CommandError('LIMIT', 'too many waiters on this key');
}

export function acquireOp(session: SessionView, request: AcquireRequest): AcquireResult {
  const { store, limits } = session.ctx;
  const key = session.key(request.name);
  const ledgerKey = lockKey(session, request.name);
  checkNames(session, ledgerKey);
  if (request.enqueue && !session.ledger.isQueued(request.token)) {
    checkConnectionWaiters(session, request.token);
    // A full queue has a head, so this request could only have joined it: refusing is exact.
    if ((store.locks.inspect(key)?.waiters.length ?? 0) >= limits.maxWaitersPerKey) throw tooManyOnKey();
  }
  const result = store.locks.acquire(session.clientId, { ...request, name: key });
  const now = session.now();
  if (result.granted) session.ledger.note(request.token, ledgerKey, false, now + request.ttl);
  else if (result.position >= 0) session.ledger.note(request.token, ledgerKey, true, now + request.waiterTtl);
  return result;
}

export function releaseOp(session: SessionView, name: string, token: string): boolean {
  session.ledger.drop(token);
  return session.ctx.store.locks.release(session.key(name), token);
}

export function extendOp(session: SessionView, name: string, token: string, ttl: number): boolean {
  const held = session.ctx.store.locks.extend(session.key(name), token, ttl);
  if (held) session.ledger.note(token, lockKey(session, name), false, session.now() + ttl);
  else session.ledger.drop(token);
  return held;
}

export function rateTakeOp(session: SessionView, request: RateRequest): RateResult {
  const { store, limits } = session.ctx;
  const ledgerKey = rateKey(session, request.name);
  checkNames(session, ledgerKey);
  const token = request.token;
  if (token !== null) checkConnectionWaiters(session, token);
  const result = store.rates.take(session.clientId, { ...request, name: session.key(request.name) });
  const now = session.now();
  if (token !== null && result.position >= limits.maxWaitersPerKey) {
    // The rate table tells a queue's length only by this answer: undo the join at once.
    store.rates.leave(session.key(request.name), token);
    throw tooManyOnKey();
  }
  session.ledger.touchRate(ledgerKey, now + Math.max(request.window, result.resetIn));
  if (token !== null && result.position >= 0) session.ledger.note(token, ledgerKey, true, now + request.waiterTtl);
  else if (token !== null) session.ledger.drop(token);
  return result;
}

export function rateLeaveOp(session: SessionView, name: string, token: string): void {
  session.ledger.drop(token);
  session.ctx.store.rates.leave(session.key(name), token);
}
