/** Every contract on the in-process backend, on a fake clock: TTLs take no real time. */

import { primitiveContracts } from './contract/primitives.js';
import { memoryWorld } from './helpers/world.js';

primitiveContracts(memoryWorld);
