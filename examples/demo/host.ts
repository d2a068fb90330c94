/**
 * A worker process of the demo (started by workers.ts). It boots once, then in each scenario
 * plays the role the demo gives it, until told to stop. It exits when the demo goes away, and
 * reports any crash to it.
 */
import type { Message, RoleName, Target } from './protocol.js';
import type { Role, RoleHandle } from './role.js';

const roles: Record<RoleName, () => Promise<Role<never>>> = {
  agent: async () => (await import('./contact-center/agent.js')).agent,
  manager: async () => (await import('./contact-center/manager.js')).manager,
  server: async () => (await import('./partner-api/server.js')).server,
  web: async () => (await import('./dog-pile/web.js')).web,
  instance: async () => (await import('./cron/instance.js')).instance,
};

let active: RoleHandle | null = null;
/** The role played now or last, named in error reports. */
let role: string | null = null;

const send = (message: Message): void => {
  process.send?.(message);
};

function report(error: unknown): void {
  const text = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const message = role === null ? text : `${text}\n(while playing ${role})`;
  if (process.connected) process.send?.({ type: 'error', message }, () => process.exit(1));
  else process.exit(1);
}

process.on('uncaughtException', report);
process.on('unhandledRejection', report);
// The demo is done with this process (or gone): nothing left to do here.
process.on('disconnect', () => process.exit(0));

async function handle(message: Message): Promise<void> {
  if (message.type === 'role') {
    // A role the demo never stopped (its scenario broke off) ends before the next begins.
    await active?.stop();
    active = null;
    const start = await roles[message.role as RoleName]();
    role = String(message.name);
    const io = { name: role, target: message.target as Target, config: message.config, send };
    active = await start(io as never);
    send({ type: 'ready' });
  } else if (message.type === 'stop') {
    const ending = active;
    active = null;
    await ending?.stop();
    send({ type: 'stopped' });
  } else {
    await active?.onMessage?.(message);
  }
}

process.on('message', (message) => {
  handle(message as Message).catch(report);
});

send({ type: 'booted' });
