/**
 * Checks that a backend has what a primitive or recipe needs, so a missing capability fails at
 * once with an `UnsupportedError` naming the backend and the capability, never later or silently.
 */
import type {
  Backend,
  CapabilityName,
  EventCapability,
  LockKind,
  RateAlgorithm,
  RateCapability,
  ReplicaCapability,
  ValueCapability,
} from './backend.js';
import { UnsupportedError } from './errors.js';

interface CapabilityOf {
  readonly rates: RateCapability;
  readonly events: EventCapability;
  readonly values: ValueCapability;
  readonly replicas: ReplicaCapability;
}

/** Why a backend may lack each capability, for the message. */
const WHAT: Readonly<Record<CapabilityName, string>> = {
  rates: 'rate limiting',
  events: 'change events',
  values: 'a value store',
  replicas: 'replica acknowledgement (waitReplicas)',
};

/** Whether `capabilities` declares `name` (rates: by naming at least one algorithm). */
function declares(backend: Backend, name: CapabilityName): boolean {
  const declared = backend.capabilities;
  return name === 'rates' ? declared.rateAlgorithms.length > 0 : declared[name] === true;
}

/**
 * The capability `name` of `backend`; throws UnsupportedError when it does not have it.
 * `forWhat` says what needed it, e.g. `rateLimiter("api")`.
 */
export function requireCapability<K extends CapabilityName>(
  backend: Backend,
  name: K,
  forWhat: string,
): CapabilityOf[K] {
  const capability = backend[name] as CapabilityOf[K] | undefined;
  if (capability === undefined || !declares(backend, name)) {
    throw new UnsupportedError(
      backend.label,
      name,
      `the ${backend.label} backend has no ${WHAT[name]}, which ${forWhat} needs${because(backend, name)}`,
    );
  }
  return capability;
}

/** Throws UnsupportedError unless `backend` holds locks of `kind` honestly. */
export function requireLockKind(backend: Backend, kind: LockKind, forWhat: string): void {
  if (backend.capabilities.locks.includes(kind)) return;
  throw new UnsupportedError(
    backend.label,
    kind,
    `the ${backend.label} backend cannot hold a ${kind} (${forWhat})${because(backend, kind)}`,
  );
}

/** The backend's own reason for lacking `what`, as the tail of a message. */
function because(backend: Backend, what: LockKind | CapabilityName): string {
  const why = backend.capabilities.why?.[what];
  return why === undefined ? '' : `: ${why}`;
}

/** The rate capability, checked to hold `algorithm` exactly. */
export function requireRateAlgorithm(backend: Backend, algorithm: RateAlgorithm, forWhat: string): RateCapability {
  const rates = requireCapability(backend, 'rates', forWhat);
  if (!backend.capabilities.rateAlgorithms.includes(algorithm)) {
    throw new UnsupportedError(
      backend.label,
      `rates:${algorithm}`,
      `the ${backend.label} backend has no ${algorithm} rate limiter (${forWhat}); it has ${
        backend.capabilities.rateAlgorithms.join(', ') || 'none'
      }`,
    );
  }
  return rates;
}
