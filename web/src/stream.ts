/**
 * `/v1/stream` from the browser: authenticated by its first message (`auth`; a browser cannot
 * set headers on a WebSocket), one subscription, and on a dropped connection a resume from the
 * last event received (`from`, `index`), so that no event is missed or repeated.
 */

export interface Subscription {
  readonly channels: readonly string[];
  readonly accounts?: readonly { account: string; subAccount: number }[];
  readonly thresholds?: readonly string[];
  /** Catch up from this journal position (the events after it) before going live. */
  readonly from?: number;
}

/** A message from the stream (docs/SERVER.md, "Messages"). */
export interface StreamMessage {
  readonly type: string;
  readonly seq?: number;
  readonly index?: number;
  readonly time?: number;
  readonly event?: Record<string, unknown> & { type: string };
  readonly [field: string]: unknown;
}

export type StreamStatus = 'connecting' | 'catching up' | 'live' | 'reconnecting' | 'refused';

/** Close codes after which reconnecting would be refused again. */
const FINAL = new Set([4400, 4401, 4403, 4410]);

export interface Stream {
  close(): void;
}

export function openStream(
  key: string,
  subscription: Subscription,
  onMessage: (message: StreamMessage) => void,
  onStatus: (status: StreamStatus, detail?: string) => void,
): Stream {
  let closed = false;
  let last: { seq: number; index: number } | null = null;
  let socket: WebSocket | null = null;
  const connect = () => {
    onStatus(last === null ? 'connecting' : 'reconnecting');
    const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${protocol}//${location.host}/v1/stream`);
    socket = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'auth', key }));
    ws.onmessage = (message) => {
      const data = JSON.parse(String(message.data)) as StreamMessage;
      if (data.type === 'authenticated') ws.send(JSON.stringify(subscribe(subscription, last)));
      else if (data.type === 'subscribed') onStatus('catching up');
      else if (data.type === 'live') onStatus('live');
      if (data.type === 'event' && data.seq !== undefined && data.index !== undefined) {
        last = { seq: data.seq, index: data.index };
      }
      onMessage(data);
    };
    ws.onclose = (event) => {
      if (closed) return;
      if (FINAL.has(event.code)) {
        onStatus('refused', event.reason);
        return;
      }
      onStatus('reconnecting', event.reason);
      setTimeout(connect, 2_000);
    };
  };
  connect();
  return {
    close: () => {
      closed = true;
      socket?.close(1000);
    },
  };
}

function subscribe(subscription: Subscription, last: { seq: number; index: number } | null) {
  const resume =
    last !== null
      ? { from: last.seq, index: last.index }
      : subscription.from === undefined
        ? {}
        : { from: subscription.from };
  return {
    type: 'subscribe',
    channels: subscription.channels,
    ...(subscription.accounts === undefined ? {} : { accounts: subscription.accounts }),
    ...(subscription.thresholds === undefined ? {} : { thresholds: subscription.thresholds }),
    ...resume,
  };
}
