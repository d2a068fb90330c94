/**
 * Connection commands: enough of Redis's for redis-cli and Redis client libraries to connect
 * (HELLO, AUTH, PING, CLIENT, COMMAND, SELECT, QUIT), and holdfast's own session settings.
 */
import { ValidationError } from '../../errors.js';
import { MAX_NAME_BYTES } from '../../util/validate.js';
import type { Connection } from '../caller.js';
import { PROTOCOL_VERSION, SERVER_NAME } from '../context.js';
import { CommandError } from '../errors.js';
import { OK, type Reply } from '../reply.js';
import { shown } from './args.js';
import type { CommandGroup } from './table.js';

/** Wrong tokens one connection may present before it is closed (slows guessing down). */
const MAX_AUTH_FAILURES = 3;

/** Checks a token in constant time; without a configured token every client is welcome. */
function authenticate(session: Connection, token: string): void {
  const check = session.ctx.checkToken;
  if (check === null || check(token)) {
    session.authenticated = true;
    return;
  }
  session.authFailures++;
  if (session.authFailures >= MAX_AUTH_FAILURES) session.quitAfterReply();
  throw new CommandError('WRONGPASS', 'invalid token');
}

/** `HELLO [2|3 [AUTH user token] [SETNAME name]]`: picks the protocol, maybe authenticates. */
function hello(session: Connection, args: readonly string[]): Reply {
  const [version, ...rest] = args;
  if (version !== undefined && version !== '2' && version !== '3') {
    throw new CommandError('NOPROTO', `unsupported protocol version ${shown(version)}`);
  }
  let token: string | undefined;
  let name: string | undefined;
  for (let i = 0; i < rest.length; ) {
    const option = rest[i]?.toUpperCase();
    if (option === 'AUTH' && i + 2 < rest.length) {
      token = rest[i + 2];
      i += 3;
    } else if (option === 'SETNAME' && i + 1 < rest.length) {
      name = rest[i + 1];
      i += 2;
    } else {
      throw new ValidationError(`HELLO takes [AUTH user token] [SETNAME name], got ${shown(rest[i] ?? '')}`);
    }
  }
  if (token !== undefined) authenticate(session, token);
  if (!session.authenticated) {
    throw new CommandError('NOAUTH', 'authentication required: HELLO 3 AUTH default <token>, or AUTH <token>');
  }
  if (version !== undefined) session.resp3 = version === '3';
  if (name !== undefined) session.clientName = name;
  return {
    map: [
      ['server', SERVER_NAME],
      ['version', PROTOCOL_VERSION],
      ['proto', session.resp3 ? 3 : 2],
      ['id', session.clientId],
      ['mode', 'standalone'],
      ['role', 'master'],
      ['modules', []],
      ['idle-timeout', session.ctx.limits.idleTimeout],
    ],
  };
}

function client(session: Connection, args: readonly string[]): Reply {
  const sub = (args[0] ?? '').toUpperCase();
  if (sub === 'SETNAME' && args.length === 2) {
    session.clientName = args[1] ?? '';
    return OK;
  }
  if (sub === 'GETNAME') return session.clientName === '' ? null : session.clientName;
  if (sub === 'SETINFO') return OK;
  if (sub === 'ID') return session.clientId;
  throw new CommandError('UNKNOWN', `unknown CLIENT subcommand ${shown(args[0] ?? '')}`);
}

export const connectionCommands: CommandGroup = {
  PING: { min: 0, max: 1, run: (_session, [message]) => (message === undefined ? { status: 'PONG' } : message) },
  ECHO: { min: 1, max: 1, run: (_session, [message]) => message ?? '' },
  HELLO: { min: 0, max: 6, beforeAuth: true, run: hello },
  AUTH: {
    min: 1,
    max: 2,
    beforeAuth: true,
    run(session, args) {
      authenticate(session, args[args.length - 1] ?? '');
      return OK;
    },
  },
  QUIT: {
    min: 0,
    max: 0,
    beforeAuth: true,
    run(session) {
      session.quitAfterReply();
      return OK;
    },
  },
  CLIENT: { min: 1, max: 16, run: client },
  // redis-cli asks for command docs at start; an empty answer is a valid one.
  COMMAND: { min: 0, max: Number.POSITIVE_INFINITY, run: () => [] },
  SELECT: {
    min: 1,
    max: 1,
    run(_session, [db]) {
      if (db !== '0') throw new CommandError('VALIDATION', 'holdfast has one database: SELECT 0');
      return OK;
    },
  },
  'HOLDFAST.CLIENTID': {
    min: 1,
    max: 1,
    run(session, [id]) {
      if (!/^[\x21-\x7e]{1,200}$/.test(id ?? '')) {
        throw new ValidationError('a client id is 1-200 printable ASCII characters without spaces');
      }
      session.setClientId(id ?? '');
      return OK;
    },
  },
  'HOLDFAST.PREFIX': {
    min: 1,
    max: 1,
    run(session, [prefix]) {
      const text = prefix ?? '';
      if (Buffer.byteLength(text, 'utf8') > MAX_NAME_BYTES) {
        throw new ValidationError(`a prefix is at most ${MAX_NAME_BYTES} bytes`);
      }
      // Later requests wait for the namespace to be open: they belong to it.
      return { blocking: session.usePrefix(text).then((): Reply => OK) };
    },
  },
};
