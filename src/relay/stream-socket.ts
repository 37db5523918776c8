// One feed stream relayed to a client, seen from the feed as the WebSocket it expects: what the
// feed sends goes out as `data` frames on the relay connection, what the client sends comes in
// as messages, and its buffer is the relay connection's (so the feed's own slow-client rules
// apply). Pings are answered at once: the relay connection's health is the connector's concern.
import { EventEmitter } from 'node:events';

export interface StreamOut {
  send(text: string): void;
  end(code: number, reason: string): void;
  buffered(): number;
}

export class StreamSocket extends EventEmitter {
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 1;

  constructor(private readonly out: StreamOut) {
    super();
  }

  get bufferedAmount(): number {
    return this.out.buffered();
  }

  send(data: Buffer | string, _options?: unknown, cb?: (err?: Error) => void): void {
    if (this.readyState !== this.OPEN) return cb?.(new Error('the stream is closed'));
    this.out.send(data.toString());
    cb?.();
  }

  ping(): void {
    queueMicrotask(() => this.emit('pong'));
  }

  /** The feed ends the stream: the client is told. */
  close(code = 1000, reason = ''): void {
    if (this.readyState === this.CLOSED) return;
    this.readyState = this.CLOSED;
    this.out.end(code, reason);
    this.emit('close', code, Buffer.from(reason));
  }

  terminate(): void {
    this.close(1006, 'terminated');
  }

  /** A message from the client. */
  receive(text: string): void {
    if (this.readyState === this.OPEN) this.emit('message', Buffer.from(text), false);
  }

  /** The client or the relay ended it: nothing to tell them. */
  drop(): void {
    if (this.readyState === this.CLOSED) return;
    this.readyState = this.CLOSED;
    this.emit('close', 1001, Buffer.from('the client left'));
  }
}
