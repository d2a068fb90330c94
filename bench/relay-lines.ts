/** The relay floor's framing (relay-server.ts, relay-worker.ts): one message per `\n`-ended line. */
import type { Socket } from 'node:net';

/** Calls `onLine` with each complete line that arrives on `socket`, without its `\n`. */
export function lines(socket: Socket, onLine: (line: string) => void): void {
  let buffered = '';
  socket.on('data', (chunk: Buffer) => {
    buffered += chunk.toString('latin1');
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      onLine(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
  });
}
