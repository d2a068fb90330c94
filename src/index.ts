export type {
  Capabilities,
  EventKind,
  HolderInfo,
  LockEventType,
  LockKind,
  LockState,
  RateAlgorithm,
  WaiterInfo,
  Wakeups,
} from './backend.js';
export { MemoryStore } from './backends/memory/store.js';
export type { RedlockTarget } from './backends/quorum/target.js';
export type { SentinelOptions, SentinelTarget } from './backends/sentinel/target.js';
export { Holdfast } from './client.js';
export { type ConnectOptions, type ConnectTarget, connect } from './connect.js';
export { Lease } from './engine/lease.js';
export { EventStream, type LockEvent } from './engine/watch.js';
export {
  BackendError,
  ClosedError,
  HoldfastError,
  type HoldfastErrorCode,
  type LeaseLossReason,
  LeaseLostError,
  LockTimeoutError,
  type NodeOutcome,
  type NodeOutcomeKind,
  QuorumError,
  RateLimitTimeoutError,
  ReplicationError,
  UnsupportedError,
  ValidationError,
} from './errors.js';
export type { Json } from './owner.js';
export { type CampaignOptions, Election, type ElectionOptions, type Leader } from './primitives/election.js';
export type { FixedLock } from './primitives/fixed-lock.js';
export type { AcquireOptions, LeaseOptions, TryAcquireOptions } from './primitives/lease-options.js';
export { Mutex, type MutexOptions } from './primitives/mutex.js';
export { RateLimiter, type RateLimiterOptions, type TakeOptions, type TakeResult } from './primitives/rate-limiter.js';
export { RwLock, type RwLockOptions } from './primitives/rwlock.js';
export {
  Semaphore,
  type SemaphoreAcquireOptions,
  type SemaphoreOptions,
  type SemaphoreTryOptions,
} from './primitives/semaphore.js';
export {
  CACHE_LOCK_PREFIX,
  type CachedOptions,
  type CacheStore,
  cached,
  DEFAULT_CACHE_PREFIX,
  DEFAULT_SCHEDULE_TTL,
  memoryCacheStore,
  type RedisCacheStoreOptions,
  type RunExclusiveOptions,
  type RunExclusiveResult,
  redisCacheStore,
  runExclusive,
  type ScheduledFn,
  ScheduledJob,
  type ScheduleOptions,
  type SkipReason,
  schedule,
  tickLockName,
} from './recipes/index.js';
export type { TelemetryOptions } from './telemetry/options.js';
export type { Clock, Timer } from './util/clock.js';
