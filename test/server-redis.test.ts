/**
 * Every contract on the holdfast server in front of Redis (`holdfast server --backend
 * redis://…`, a redis-server this file starts): holdfast:// clients, a fresh prefix per test
 * (a namespace of the server, one Redis client of its own), the suites unchanged.
 */

import { primitiveContracts } from './contract/primitives.js';
import { serverBackend } from './server/backend.js';
import { serverWorld, useHoldfastServer } from './server/world.js';

const backend = serverBackend('redis');
const world = serverWorld(
  useHoldfastServer(async () => {
    await backend.ready();
    return backend.options();
  }),
);

primitiveContracts(world);
