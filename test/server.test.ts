/**
 * Every contract on the embedded holdfast server (holdfast://): one server for this file, a
 * fresh prefix per test, short real TTLs, the suites unchanged.
 */

import { primitiveContracts } from './contract/primitives.js';
import { serverWorld, useHoldfastServer } from './server/world.js';

const world = serverWorld(useHoldfastServer());

primitiveContracts(world);
