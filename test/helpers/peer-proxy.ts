/**
 * A TCP proxy in front of one etcd member's peer port, so a test can cut a member off from the
 * others both ways. All members talk over loopback, so the source address says nothing; but
 * every request of etcd's peer transport (streams, pipeline, snapshots) names its sender in an
 * `X-Server-From` header. The proxy reads each connection's request head, learns the sender, and
 * drops connections from blocked members (or all of them, for the isolated member's own proxy).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** Longest request head read before giving up on finding the sender. */
const MAX_HEAD = 16 * 1024;

interface Tunnel {
  readonly from: string | null;
  readonly sockets: readonly Socket[];
}

export class PeerProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #tunnels = new Set<Tunnel>();
  /** Member ids (hex, as in X-Server-From) whose connections are dropped; or every one. */
  #blocked: ReadonlySet<string> | 'all' = new Set();

  private constructor(server: Server, port: number) {
    this.#server = server;
    this.port = port;
  }

  /** Listens on `port` (0: any free one) of 127.0.0.1 and forwards to `targetPort`. */
  static start(targetPort: number, port = 0): Promise<PeerProxy> {
    return new Promise((resolve, reject) => {
      let proxy: PeerProxy | undefined;
      const server = createServer((socket) => proxy?.accept(socket, targetPort));
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        proxy = new PeerProxy(server, typeof address === 'object' && address ? address.port : 0);
        resolve(proxy);
      });
    });
  }

  /** Drops open connections from these senders and refuses new ones, until `heal()`. */
  block(senders: ReadonlySet<string> | 'all'): void {
    this.#blocked = senders;
    for (const tunnel of [...this.#tunnels]) {
      if (this.#isBlocked(tunnel.from)) this.#drop(tunnel);
    }
  }

  heal(): void {
    this.#blocked = new Set();
  }

  close(): Promise<void> {
    for (const tunnel of [...this.#tunnels]) this.#drop(tunnel);
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  private accept(socket: Socket, targetPort: number): void {
    socket.on('error', () => socket.destroy());
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0 && head.length < MAX_HEAD) return;
      socket.off('data', onData);
      socket.pause();
      const text = head.subarray(0, end < 0 ? head.length : end).toString('latin1');
      const from = /^x-server-from:\s*([0-9a-f]+)\s*$/im.exec(text)?.[1]?.toLowerCase() ?? null;
      if (this.#isBlocked(from)) {
        socket.destroy();
        return;
      }
      this.#connect(socket, targetPort, from, head);
    };
    socket.on('data', onData);
  }

  #connect(socket: Socket, targetPort: number, from: string | null, head: Buffer): void {
    const upstream = createConnection({ port: targetPort, host: '127.0.0.1' });
    const tunnel: Tunnel = { from, sockets: [socket, upstream] };
    this.#tunnels.add(tunnel);
    const drop = (): void => this.#drop(tunnel);
    upstream.on('error', drop);
    socket.on('error', drop);
    upstream.on('close', drop);
    socket.on('close', drop);
    upstream.write(head);
    socket.pipe(upstream);
    upstream.pipe(socket);
    socket.resume();
  }

  #isBlocked(from: string | null): boolean {
    if (this.#blocked === 'all') return true;
    return from !== null && this.#blocked.has(from);
  }

  #drop(tunnel: Tunnel): void {
    this.#tunnels.delete(tunnel);
    for (const socket of tunnel.sockets) socket.destroy();
  }
}
