/**
 * A NATS cluster on loopback for tests, benches and development: `size` nats-server processes
 * (Debian's /usr/sbin/nats-server, or `nats-server` on PATH) with JetStream, each with its own
 * store folder under one temporary folder, clustered by routes, every port free-picked and bound
 * to 127.0.0.1. Each server can be killed (SIGKILL), paused (SIGSTOP) and resumed, slowed
 * (paused and resumed in turn), and restarted on its store. `stop` kills every process it
 * started, by pid, and removes the folder.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface ClusterNode {
  readonly name: string;
  readonly clientPort: number;
  readonly routePort: number;
  readonly monitorPort: number;
  readonly url: string;
  process: ChildProcess | null;
}

/** The nats-server binary: Debian's, or one on PATH; null when there is none. */
export function natsServerBinary(): string | null {
  if (existsSync('/usr/sbin/nats-server')) return '/usr/sbin/nats-server';
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  }
  return null;
}

/** A port free now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no free port');
  return address.port;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class LocalCluster {
  readonly dir: string;
  readonly nodes: ClusterNode[];
  private readonly binary: string;
  private readonly slowed = new Map<string, NodeJS.Timeout>();

  private constructor(dir: string, nodes: ClusterNode[], binary: string) {
    this.dir = dir;
    this.nodes = nodes;
    this.binary = binary;
  }

  /** Every client URL, for a connection that fails over between servers. */
  get servers(): string[] {
    return this.nodes.map((node) => node.url);
  }

  /** Starts `size` servers and resolves once JetStream's meta group has a leader. */
  static async start(size = 3, options: { timeoutMs?: number } = {}): Promise<LocalCluster> {
    const binary = natsServerBinary();
    if (binary === null) throw new Error('nats-server not found (/usr/sbin or PATH)');
    const dir = mkdtempSync(join(tmpdir(), 'fulcrum-nats-'));
    const nodes: ClusterNode[] = [];
    for (let i = 1; i <= size; i++) {
      const [clientPort, routePort, monitorPort] = [
        await freePort(),
        await freePort(),
        await freePort(),
      ];
      const url = `nats://127.0.0.1:${clientPort}`;
      nodes.push({ name: `n${i}`, clientPort, routePort, monitorPort, url, process: null });
    }
    const cluster = new LocalCluster(dir, nodes, binary);
    try {
      for (const node of nodes) cluster.writeConfig(node);
      for (const node of nodes) cluster.launch(node);
      await cluster.waitForMeta(options.timeoutMs ?? 30_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private writeConfig(node: ClusterNode): void {
    const store = join(this.dir, node.name);
    mkdirSync(store, { recursive: true });
    const routes = this.nodes.map((n) => `nats-route://127.0.0.1:${n.routePort}`).join(', ');
    const text = [
      `server_name: ${node.name}`,
      `listen: 127.0.0.1:${node.clientPort}`,
      `http: 127.0.0.1:${node.monitorPort}`,
      `jetstream { store_dir: "${store}" }`,
      `cluster {`,
      `  name: fulcrum-local`,
      `  listen: 127.0.0.1:${node.routePort}`,
      `  routes: [${routes}]`,
      `}`,
      '',
    ].join('\n');
    writeFileSync(join(this.dir, `${node.name}.conf`), text);
  }

  private launch(node: ClusterNode): void {
    const child = spawn(this.binary, ['-c', join(this.dir, `${node.name}.conf`)], {
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    child.on('error', () => {});
    node.process = child;
  }

  /** The node named `name` (n1, n2, ...). */
  node(name: string): ClusterNode {
    const found = this.nodes.find((n) => n.name === name);
    if (found === undefined) throw new Error(`no node ${name}`);
    return found;
  }

  /** GET a monitoring endpoint of a node (null when it does not answer). */
  async monitor(name: string, path: string): Promise<unknown> {
    try {
      const reply = await fetch(`http://127.0.0.1:${this.node(name).monitorPort}${path}`, {
        signal: AbortSignal.timeout(1_000),
      });
      return await reply.json();
    } catch {
      return null;
    }
  }

  private async waitForMeta(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      for (const node of this.nodes) {
        const jsz = (await this.monitor(node.name, '/jsz')) as {
          meta_cluster?: { leader?: string; cluster_size?: number };
        } | null;
        if (jsz?.meta_cluster?.leader !== undefined && jsz.meta_cluster.leader !== '') return;
      }
      await sleep(200);
    }
    throw new Error(`the NATS cluster elected no JetStream leader in ${timeoutMs} ms`);
  }

  /** The server leading `stream`'s Raft group, as a monitoring endpoint reports it. */
  async streamLeader(stream: string): Promise<string | null> {
    for (const node of this.nodes) {
      if (node.process === null) continue;
      const jsz = (await this.monitor(node.name, '/jsz?streams=true')) as {
        account_details?: { stream_detail?: { name: string; cluster?: { leader?: string } }[] }[];
      } | null;
      for (const account of jsz?.account_details ?? []) {
        for (const detail of account.stream_detail ?? []) {
          if (detail.name === stream && detail.cluster?.leader) return detail.cluster.leader;
        }
      }
    }
    return null;
  }

  /** Sends `signal` to a node's server (SIGKILL ends it: restart brings it back). */
  signal(name: string, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): void {
    const node = this.node(name);
    const child = node.process;
    if (child === null || child.pid === undefined) return;
    child.kill(signal);
    if (signal === 'SIGKILL') node.process = null;
  }

  /** Starts a killed node again on its store. */
  restart(name: string): void {
    const node = this.node(name);
    if (node.process !== null) return;
    this.launch(node);
  }

  /** Pauses and resumes a node in turn (`pausedMs` of every `periodMs`) until `unslow`. */
  slow(name: string, pausedMs: number, periodMs: number): void {
    this.unslow(name);
    const timer = setInterval(() => {
      this.signal(name, 'SIGSTOP');
      setTimeout(() => this.signal(name, 'SIGCONT'), pausedMs);
    }, periodMs);
    this.slowed.set(name, timer);
  }

  unslow(name: string): void {
    const timer = this.slowed.get(name);
    if (timer === undefined) return;
    clearInterval(timer);
    this.slowed.delete(name);
    this.signal(name, 'SIGCONT');
  }

  /** Kills every server this cluster started and removes its folder. */
  async stop(): Promise<void> {
    for (const name of [...this.slowed.keys()]) this.unslow(name);
    const exits: Promise<void>[] = [];
    for (const node of this.nodes) {
      const child = node.process;
      if (child === null) continue;
      node.process = null;
      if (child.exitCode === null && child.signalCode === null) {
        exits.push(new Promise((resolve) => child.once('exit', () => resolve())));
        child.kill('SIGCONT');
        child.kill('SIGKILL');
      }
    }
    await Promise.race([Promise.all(exits), sleep(5_000)]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A replica running as a child process, its output kept. */
export class ReplicaProcess {
  readonly node: string;
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(node: string, child: ChildProcess) {
    this.node = node;
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.stdout = keepTail(this.stdout + chunk)));
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr = keepTail(this.stderr + chunk)));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /**
   * Spawns `node SCRIPT ...prefix run --node NODE --servers ...` (the script: the built
   * `cli/replica.js`, or a test's bundle that takes the same arguments).
   */
  static spawn(
    script: string,
    node: string,
    servers: readonly string[],
    extra: readonly string[] = [],
    env: Record<string, string> = {},
  ): ReplicaProcess {
    const args = [script, 'run', '--node', node, '--servers', servers.join(','), ...extra];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    return new ReplicaProcess(node, child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  signal(signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT' | 'SIGTERM'): void {
    if (this.running) this.child.kill(signal);
  }

  /** Kills it (SIGKILL) and waits for its end. */
  async kill(): Promise<void> {
    if (this.running) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }
}

/** The last 64 KiB of a process's output. */
function keepTail(text: string): string {
  return text.length > 65_536 ? text.slice(-65_536) : text;
}
