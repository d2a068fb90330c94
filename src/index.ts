export type { HolderInfo, LockKind, LockState, WaiterInfo } from './backend.js';
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
  ValidationError,
} from './errors.js';
export { Lease } from './lease.js';
export type { AcquireOptions, LeaseOptions } from './primitives/common.js';
export { Mutex, type MutexOptions } from './primitives/mutex.js';
export { Semaphore, type SemaphoreAcquireOptions, type SemaphoreOptions } from './primitives/semaphore.js';
