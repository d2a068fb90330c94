export type {
  EventKind,
  HolderInfo,
  LockEventType,
  LockKind,
  LockState,
  RateAlgorithm,
  WaiterInfo,
} from './backend.js';
export { MemoryStore } from './backends/memory/store.js';
export { Holdfast } from './client.js';
export type { Clock, Timer } from './clock.js';
export { type ConnectOptions, type ConnectTarget, connect } from './connect.js';
export {
  BackendError,
  ClosedError,
  HoldfastError,
  type HoldfastErrorCode,
  LeaseLostError,
  LockTimeoutError,
  RateLimitTimeoutError,
  ValidationError,
} from './errors.js';
export { Lease } from './lease.js';
export type { Json } from './owner.js';
export type { AcquireOptions, FixedLock, LeaseOptions, TryAcquireOptions } from './primitives/common.js';
export { type CampaignOptions, Election, type ElectionOptions, type Leader } from './primitives/election.js';
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
export { EventStream, type LockEvent } from './watch.js';
