/**
 * The server's protocol from the outside, on its default backend (its own memory): redis-cli
 * and a stdlib-only Python client talk to it, a Node client shares its locks with them, tokens
 * guard non-loopback binds, a SIGTERM shuts a server process down gracefully.
 */
import { serverBackend } from './server/backend.js';
import { protocolSuite } from './server/protocol-suite.js';

protocolSuite(serverBackend('memory'));
