export { createServerBackend, type ServerBackendOptions } from './backend.js';
