/** Recipes: ready-made patterns built on the public primitives. */
export {
  CACHE_LOCK_PREFIX,
  type CachedOptions,
  type CacheStore,
  cached,
  DEFAULT_CACHE_PREFIX,
  memoryCacheStore,
  type RedisCacheStoreOptions,
  redisCacheStore,
} from './cached.js';
export { type RunExclusiveOptions, type RunExclusiveResult, runExclusive } from './run-exclusive.js';
export {
  DEFAULT_SCHEDULE_TTL,
  type ScheduledFn,
  ScheduledJob,
  type ScheduleOptions,
  type SkipReason,
  schedule,
  tickLockName,
} from './schedule.js';
