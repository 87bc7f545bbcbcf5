/**
 * Prometheus metrics of one service (its own registry, so that two services in one process,
 * as in the tests, never share counters). Scraped at `/metrics`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** Commands answered, by type and outcome (`ok` or the refusal's code). */
  readonly commands: Counter<'type' | 'outcome'>;
  /** Every refusal (HTTP 4xx and 5xx, and engine refusals), by code. */
  readonly refusals: Counter<'code'>;
  /** Commands applied and waiting for the journal. */
  readonly queueDepth: Gauge;
  /** From a command's application to its durability. */
  readonly journalLatency: Histogram;
  /** Liquidation events: liquidation, position-liquidated, deleveraged, bad-debt. */
  readonly liquidations: Counter<'kind'>;
  /** Sub-accounts below maintenance now (the monitor's count). */
  readonly liquidatable: Gauge;
  /** Open WebSocket connections. */
  readonly webSocketClients: Gauge;
  /** HTTP requests answered, by route and status. */
  readonly requests: Counter<'route' | 'status'>;
  /** NATS quote messages, by what became of them. */
  readonly natsMessages: Counter<'outcome'>;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'fulcrum_process_' });
  const registers = [registry];
  return {
    registry,
    commands: new Counter({
      name: 'fulcrum_commands_total',
      help: 'Commands answered, by type and outcome (ok or the refusal code)',
      labelNames: ['type', 'outcome'],
      registers,
    }),
    refusals: new Counter({
      name: 'fulcrum_refusals_total',
      help: 'Refusals (HTTP 4xx/5xx and engine refusals), by stable code',
      labelNames: ['code'],
      registers,
    }),
    queueDepth: new Gauge({
      name: 'fulcrum_queue_depth',
      help: 'Commands applied and waiting to be journaled',
      registers,
    }),
    journalLatency: new Histogram({
      name: 'fulcrum_journal_latency_seconds',
      help: 'Seconds from applying a command to its journal write being durable',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5],
      registers,
    }),
    liquidations: new Counter({
      name: 'fulcrum_liquidations_total',
      help: 'Liquidation events, by kind (liquidation, position-liquidated, deleveraged, bad-debt)',
      labelNames: ['kind'],
      registers,
    }),
    liquidatable: new Gauge({
      name: 'fulcrum_liquidatable_sub_accounts',
      help: 'Sub-accounts below maintenance margin now',
      registers,
    }),
    webSocketClients: new Gauge({
      name: 'fulcrum_websocket_clients',
      help: 'Open WebSocket connections',
      registers,
    }),
    requests: new Counter({
      name: 'fulcrum_http_requests_total',
      help: 'HTTP requests answered, by route and status',
      labelNames: ['route', 'status'],
      registers,
    }),
    natsMessages: new Counter({
      name: 'fulcrum_nats_messages_total',
      help: 'NATS quote messages: applied, or dropped (invalid, unknown_source, queue_full, refused)',
      labelNames: ['outcome'],
      registers,
    }),
  };
}
