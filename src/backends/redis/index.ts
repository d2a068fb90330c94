export { createRedisBackend, type RedisBackendOptions, type RedisTarget } from './backend.js';
