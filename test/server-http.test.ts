/**
 * The HTTP/JSON API of the embedded server on its default backend (its own memory): every
 * endpoint over fetch, long-polls woken by hand-offs (from HTTP and from a holdfast:// client),
 * Server-Sent Events, the rate limiter, auth, limits, shutdown, and the README's curl and
 * Python usage run for real.
 */
import { serverBackend } from './server/backend.js';
import { httpSuite } from './server/http-suite.js';

httpSuite(serverBackend('memory'));
