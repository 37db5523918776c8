// The webhook channel: POSTs a notification as JSON to a device's URL, with an
// Idempotency-Key header equal to the notification id and a time limit, and classifies the
// answer: 2xx delivered, 4xx rejected (except 408 and 429), anything else worth a retry.
// Retries back off exponentially; the outbox (notifications.ts) keeps them across restarts.
import { request as httpRequest, Agent as HttpAgent } from 'node:http';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import type { Clock } from '../../lib/clock.js';

export interface WebhookPayload {
  id: string;
  title: string;
  message: string;
  urgency: string;
  instance: string | null;
  device: string | null;
  event: string;
  at: string;
  count: number;
  /** A permission request token-api holds: one-time links that allow or deny it (GET, no token needed). */
  actions?: { approve: string; deny: string };
}

export type WebhookOutcome =
  | { kind: 'delivered'; status: number; body: string }
  | { kind: 'rejected'; status: number; body: string }
  | { kind: 'retry'; status: number | null; error: string };

const httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 16 });
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 16 });

/** Delay before attempt `attempts + 1`: initial, doubling, at most max. */
export function backoffMs(attempts: number, initialMs: number, maxMs: number): number {
  const exp = Math.min(Math.max(0, attempts - 1), 40);
  return Math.min(maxMs, initialMs * 2 ** exp);
}

const MAX_BODY = 2048;

export function postWebhook(url: string, payload: WebhookPayload, opts: { timeoutMs: number; clock: Clock; userAgent?: string }): Promise<WebhookOutcome> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve({ kind: 'rejected', status: 0, body: `invalid webhook URL ${url}` });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.resolve({ kind: 'rejected', status: 0, body: `webhook URL must be http or https: ${url}` });
  }
  const body = JSON.stringify(payload);
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<WebhookOutcome>((resolve) => {
    let settled = false;
    const finish = (o: WebhookOutcome) => {
      if (settled) return;
      settled = true;
      opts.clock.clearTimeout(timer);
      resolve(o);
    };
    const req = send(
      target,
      {
        method: 'POST',
        agent: target.protocol === 'https:' ? httpsAgent : httpAgent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': payload.id,
          'user-agent': opts.userAgent ?? 'token-api',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          if (text.length < MAX_BODY) text += d;
        });
        res.on('error', (err) => finish({ kind: 'retry', status: res.statusCode ?? null, error: err.message }));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const answer = text.slice(0, MAX_BODY);
          if (status >= 200 && status < 300) finish({ kind: 'delivered', status, body: answer });
          else if (status >= 400 && status < 500 && status !== 408 && status !== 429) finish({ kind: 'rejected', status, body: answer });
          else if (status >= 300 && status < 400) finish({ kind: 'rejected', status, body: `redirect to ${res.headers.location ?? '?'} not followed` });
          else finish({ kind: 'retry', status, error: `HTTP ${status}${answer ? `: ${answer.slice(0, 200)}` : ''}` });
        });
      },
    );
    const timer = opts.clock.setTimeout(() => {
      finish({ kind: 'retry', status: null, error: `no answer within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err) => finish({ kind: 'retry', status: null, error: err.message }));
    req.end(body);
  });
}
