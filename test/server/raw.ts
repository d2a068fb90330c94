/**
 * A bare RESP client for protocol tests: sends whatever bytes it is told, and collects replies,
 * pushes and the moment the server closes the connection.
 */
import { connect, type Socket } from 'node:net';
import { ReplyParser, type RespValue } from '../../src/backends/server-client/resp.js';

export class RawClient {
  readonly socket: Socket;
  readonly pushes: RespValue[][] = [];
  /** Resolves when the server (or anything) closed the connection. */
  readonly closed: Promise<void>;
  readonly #parser = new ReplyParser();
  readonly #replies: RespValue[] = [];
  readonly #waiting: ((value: RespValue) => void)[] = [];
  #pushWaiters: (() => void)[] = [];

  static async open(port: number): Promise<RawClient> {
    const client = new RawClient(connect({ host: '127.0.0.1', port }));
    await new Promise<void>((resolve, reject) => {
      client.socket.once('connect', resolve);
      client.socket.once('error', reject);
    });
    return client;
  }

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => {
      this.#parser.feed(chunk);
      for (let frame = this.#parser.next(); frame !== null; frame = this.#parser.next()) {
        if ('push' in frame) {
          this.pushes.push(frame.push);
          for (const wake of this.#pushWaiters.splice(0)) wake();
        } else {
          const waiter = this.#waiting.shift();
          if (waiter) waiter(frame.reply);
          else this.#replies.push(frame.reply);
        }
      }
    });
  }

  /** Sends one command as an array of bulk strings and resolves with its reply. */
  call(...args: readonly (string | number)[]): Promise<RespValue> {
    this.write(encode(args));
    return this.reply();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next reply, in order. */
  reply(): Promise<RespValue> {
    const ready = this.#replies.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** Resolves once a push satisfying `match` has arrived. */
  async push(match: (push: RespValue[]) => boolean): Promise<RespValue[]> {
    for (;;) {
      const found = this.pushes.find(match);
      if (found) return found;
      await new Promise<void>((resolve) => this.#pushWaiters.push(resolve));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

export function encode(args: readonly (string | number)[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join('')}`;
}
