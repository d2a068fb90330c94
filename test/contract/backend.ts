/**
 * The backend conformance suite (issue 8): the Backend contract of src/backend.ts, tested against
 * the interface itself, not through the primitives. Every backend runs it unchanged:
 *
 *   import { backendConformance } from './contract/backend.js';
 *   describe('my backend', () => backendConformance(myEngineFactory));
 *
 * `myEngineFactory` returns a fresh BackendEngine per test: one shared state (a server, a store,
 * a key prefix of its own) and a way to open any number of backends on it, so hand-offs between
 * clients are tested. The required core runs on every engine; each optional capability runs when
 * the engine's backends declare it, and a capability not declared is asserted to be absent.
 * test/backend-conformance.test.ts has the engines of memory, Redis and holdfast://
 * (test/contract/backend-engines.ts): copy one of those to add a backend.
 */
import { describe } from 'node:test';
import { capabilitiesSuite } from './backend-capabilities.js';
import { coreSuite } from './backend-core.js';
import { eventsSuite } from './backend-events.js';
import { queueSuite } from './backend-queue.js';
import { ratesSuite } from './backend-rates.js';
import type { BackendEngineFactory } from './backend-support.js';
import { valuesSuite } from './backend-values.js';

export type { BackendEngine, BackendEngineFactory, OpenedBackend } from './backend-support.js';

export function backendConformance(factory: BackendEngineFactory): void {
  describe('required core', () => coreSuite(factory));
  describe('queue, hand-off and fences', () => queueSuite(factory));
  describe('declared capabilities and wake-ups', () => capabilitiesSuite(factory));
  describe('capability: rates', () => ratesSuite(factory));
  describe('capability: events', () => eventsSuite(factory));
  describe('capability: values', () => valuesSuite(factory));
}
