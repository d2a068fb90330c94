export { DEFAULT_HTTP_PORT } from './http/listener.js';
export { DEFAULT_LIMITS, type ServerLimits } from './limits.js';
export { banner, runServerCli, SERVER_USAGE } from './main.js';
export { DEFAULT_HOST, DEFAULT_PORT, type RunningServer, type ServerOptions, startServer } from './server.js';
