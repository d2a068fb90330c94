/**
 * The few etcd calls the backend makes, over the `etcd3` package's raw gRPC clients (its
 * builders allocate a promise per clause; a lock operation is one Txn and nothing else). Every
 * failure becomes a BackendError naming the operation. Types only are imported from etcd3: the
 * package itself is loaded by ./client.ts when an etcd URL is used.
 */
import type {
  Etcd3,
  ICompare,
  IDuplexStream,
  IKeyValue,
  ILeaseKeepAliveRequest,
  ILeaseKeepAliveResponse,
  IRequestOp,
  ITxnResponse,
  Watcher,
} from 'etcd3';
import { BackendError } from '../../errors.js';

export type KeyValue = IKeyValue;
export type RequestOp = IRequestOp;
export type Compare = ICompare;
export type TxnResponse = ITxnResponse;

export interface LeaseRpc {
  grant(seconds: number): Promise<{ id: string; ttl: number }>;
  revoke(id: string): Promise<void>;
  /** A keep-alive stream; `onEnd` runs once when it fails or ends. */
  keepAliveStream(onEnd: () => void): KeepAliveStream;
}

/** etcd's CompareTarget / CompareResult / SortTarget / SortOrder numbers (rpc.proto). */
export const VERSION = 0;
export const CREATE = 1;
export const MOD = 2;
export const EQUAL = 0;
export const GREATER = 1;
export const LESS = 2;
export const SORT_CREATE = 2;
export const ASCEND = 1;

function failed(what: string, error: unknown): BackendError {
  const why = error instanceof Error ? error.message : String(error);
  return new BackendError(`etcd ${what} failed: ${why}`, { cause: error });
}

export class EtcdRpc implements LeaseRpc {
  readonly client: Etcd3;

  constructor(client: Etcd3) {
    this.client = client;
  }

  async txn(compare: Compare[], success: RequestOp[], failure: RequestOp[], what: string): Promise<TxnResponse> {
    try {
      return await this.client.kv.txn({ compare, success, failure });
    } catch (error) {
      throw failed(what, error);
    }
  }

  async range(key: Buffer, rangeEnd: Buffer | undefined, what: string, keysOnly = false): Promise<KeyValue[]> {
    try {
      const request = { key, keys_only: keysOnly, sort_target: SORT_CREATE, sort_order: ASCEND };
      const response = await this.client.kv.range(rangeEnd ? { ...request, range_end: rangeEnd } : request);
      return response.kvs;
    } catch (error) {
      throw failed(what, error);
    }
  }

  /**
   * A name's keys as of `revision`, read from whichever member answers (serializable: no
   * round of the cluster) when it has applied that revision; else a linearizable read of now,
   * which is as good for a queue (keys never join ahead of a waiter).
   */
  async rangeAt(key: Buffer, rangeEnd: Buffer, revision: bigint, what: string): Promise<KeyValue[]> {
    const request = { key, range_end: rangeEnd, sort_target: SORT_CREATE, sort_order: ASCEND };
    try {
      return (await this.client.kv.range({ ...request, revision: String(revision), serializable: true })).kvs;
    } catch {
      return this.range(key, rangeEnd, what);
    }
  }

  async grant(seconds: number): Promise<{ id: string; ttl: number }> {
    try {
      const response = await this.client.leaseClient.leaseGrant({ TTL: seconds });
      return { id: response.ID, ttl: Number(response.TTL) };
    } catch (error) {
      throw failed('lease grant', error);
    }
  }

  async revoke(id: string): Promise<void> {
    try {
      await this.client.leaseClient.leaseRevoke({ ID: id });
    } catch (error) {
      throw failed('lease revoke', error);
    }
  }

  /** Seconds the cluster still keeps lease `id`; ≤ 0 when it has none. */
  async timeToLive(id: string): Promise<number> {
    try {
      return Number((await this.client.leaseClient.leaseTimeToLive({ ID: id })).TTL);
    } catch (error) {
      throw failed('lease time-to-live', error);
    }
  }

  keepAliveStream(onEnd: () => void): KeepAliveStream {
    return new KeepAliveStream(this.client.leaseClient.leaseKeepAlive(), onEnd);
  }

  /** A watch from `startRevision` of one key or (with `end`) a range; `.cancel()` ends it. */
  watch(key: string, end: Buffer | null, startRevision: bigint): Watcher {
    const builder = this.client.watch();
    const scoped = end ? builder.inRange({ start: key, end }) : builder.key(key);
    return scoped.startRevision(startRevision.toString()).watcher();
  }
}

/** Keep-alives over one bidirectional stream; answers come back in the order they were asked. */
export class KeepAliveStream {
  readonly #stream: Promise<IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>>;
  readonly #waiting: { id: string; resolve: (ttl: number) => void; reject: (error: Error) => void }[] = [];
  readonly #onEnd: () => void;
  #ended = false;

  constructor(stream: Promise<IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>>, onEnd: () => void) {
    this.#onEnd = onEnd;
    this.#stream = stream;
    stream.then(
      (s) => {
        s.on('data', (response) => this.#answer(response));
        s.on('error', (error) => this.#end(error));
        s.on('end', () => this.#end(new Error('the keep-alive stream ended')));
      },
      (error: unknown) => this.#end(error instanceof Error ? error : new Error(String(error))),
    );
  }

  /** The lease's TTL in seconds after this keep-alive (≤ 0: the cluster has no such lease). */
  keepAlive(id: string, timeout: number): Promise<number> {
    if (this.#ended) return Promise.reject(new Error('the keep-alive stream ended'));
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => this.#end(new Error(`no keep-alive answer within ${timeout} ms`)), timeout);
      timer.unref();
      const done = (): void => clearTimeout(timer);
      this.#waiting.push({
        id,
        resolve: (ttl) => {
          done();
          resolve(ttl);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
      this.#stream.then(
        (s) => {
          if (!this.#ended) s.write({ ID: id });
        },
        () => {},
      );
    });
  }

  close(): void {
    this.#end(new Error('the keep-alive stream was closed'));
  }

  #answer(response: ILeaseKeepAliveResponse): void {
    const index = this.#waiting.findIndex((w) => w.id === response.ID);
    if (index < 0) return;
    const [waiter] = this.#waiting.splice(index, 1);
    waiter?.resolve(Number(response.TTL));
  }

  #end(error: Error): void {
    if (this.#ended) return;
    this.#ended = true;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    this.#stream.then(
      (s) => s.cancel(),
      () => {},
    );
    this.#onEnd();
  }
}
