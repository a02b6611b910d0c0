/**
 * Real servers for the object-storage tests: s3rver (a real S3 API server, on 127.0.0.1 at a free port,
 * storing into a temp dir) driven by the real AWS SDK, and a fault-injecting HTTP proxy to put in front of
 * it (or of any HTTP range server): it drops connections, answers 503 / SlowDown / 500, stalls or cuts
 * bodies, and adds latency, by a plan the test gives, and counts what it did.
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { tempDir } from './fixtures.js';

/** Test credentials, long and recognisable, so a test can tell that they never appear anywhere. */
export const ACCESS_KEY = 'AKIASEEKDATATEST4242';
export const SECRET_KEY = 'sEcReT/seekdata+Test0nly/NeverShowMe1234';

export interface S3Server {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  port: number;
  /** A real SDK client for filling buckets. */
  client: S3Client;
  createBucket(name: string): Promise<void>;
  put(bucket: string, key: string, body: Uint8Array): Promise<void>;
  remove(bucket: string, key: string): Promise<void>;
  close(): Promise<void>;
}

/** Sets the environment the SDK's credential chain reads (and keeps it off the instance-metadata service). */
export function useTestCredentials(): void {
  process.env.AWS_ACCESS_KEY_ID = ACCESS_KEY;
  process.env.AWS_SECRET_ACCESS_KEY = SECRET_KEY;
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_ENDPOINT_URL_S3;
}

/** Starts s3rver in a process of its own (./s3rver-main.mjs) and waits for its port. */
export async function startS3(): Promise<S3Server> {
  const store = tempDir('seekdata-s3rver-');
  const main = fileURLToPath(new URL('./s3rver-main.mjs', import.meta.url));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', main, store.dir, ACCESS_KEY, SECRET_KEY], { stdio: ['ignore', 'pipe', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (piece: Buffer) => {
      out += piece.toString();
      const line = /^(\d+)\n/.exec(out);
      if (line !== null) resolve(Number(line[1]));
    });
    child.stderr.on('data', (piece: Buffer) => (err += piece.toString()));
    child.on('exit', (code) => reject(new Error(`s3rver exited (${code}) before listening: ${err}`)));
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    port,
    client,
    createBucket: async (name) => {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    put: async (bucket, key, body) => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength: body.length }));
    },
    remove: async (bucket, key) => {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    close: async () => {
      client.destroy();
      child.kill('SIGTERM');
      await exited;
      store.cleanup();
    },
  };
}

/** What the proxy does with one request. */
export type Fault = 'pass' | 'drop' | '503' | 'slowdown' | '500' | 'stall' | 'cut';

export interface ProxyPlan {
  /** The fault for the n-th request (from 0) the proxy sees. Default: always 'pass'. */
  fault?: (n: number, req: IncomingMessage) => Fault;
  /** Delay added before each request is forwarded, in ms. Default 0. */
  latencyMs?: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  /** Requests seen. */
  readonly requests: number;
  /** Faults injected, by kind. */
  readonly injected: Record<Exclude<Fault, 'pass'>, number>;
  /** Total faults injected. */
  readonly faults: number;
  /** Every request seen: method, path and headers. */
  readonly seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  /** Changes the plan (for the requests to come). */
  setPlan(plan: ProxyPlan): void;
  close(): Promise<void>;
}

/** Every n-th request (n, 2n, …) among those `only` selects gets the next fault of `kinds`, in turn. */
export function everyNth(n: number, kinds: Array<Exclude<Fault, 'pass'>>, only: (req: IncomingMessage) => boolean = () => true): (k: number, req: IncomingMessage) => Fault {
  let seen = 0;
  let next = 0;
  return (_k, req) => {
    if (!only(req)) return 'pass';
    seen++;
    if (seen % n !== 0) return 'pass';
    return kinds[next++ % kinds.length];
  };
}

export async function startFaultProxy(upstreamPort: number, initial: ProxyPlan = {}): Promise<FaultProxy> {
  let plan = initial;
  let requests = 0;
  const injected = { drop: 0, '503': 0, slowdown: 0, '500': 0, stall: 0, cut: 0 };
  const sockets = new Set<Socket>();
  const seen: FaultProxy['seen'] = [];
  const server: Server = createServer((req, res) => {
    const n = requests++;
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: { ...req.headers } });
    const fault = plan.fault?.(n, req) ?? 'pass';
    if (fault !== 'pass') injected[fault]++;
    const go = (): void => handle(req, res, fault, upstreamPort);
    if ((plan.latencyMs ?? 0) > 0) setTimeout(go, plan.latencyMs);
    else go();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() {
      return requests;
    },
    injected,
    seen,
    get faults() {
      return Object.values(injected).reduce((a, b) => a + b, 0);
    },
    setPlan: (next) => {
      plan = next;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

function s3ErrorBody(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>proxy</RequestId></Error>`;
}

function handle(req: IncomingMessage, res: ServerResponse, fault: Fault, upstreamPort: number): void {
  switch (fault) {
    case 'drop':
      req.socket.destroy();
      return;
    case '503':
    case 'slowdown':
    case '500': {
      const [status, code] = fault === '500' ? [500, 'InternalError'] : fault === '503' ? [503, 'ServiceUnavailable'] : [503, 'SlowDown'];
      const body = s3ErrorBody(code, 'injected by the test proxy');
      req.resume();
      res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) }).end(body);
      return;
    }
    default:
      break;
  }
  const upstream = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    if (fault === 'pass') {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
      return;
    }
    // stall / cut: the headers and half the body, then nothing more (stall) or a closed connection (cut).
    const pieces: Buffer[] = [];
    answer.on('data', (piece: Buffer) => pieces.push(piece));
    answer.on('end', () => {
      const body = Buffer.concat(pieces);
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      res.write(body.subarray(0, body.length >> 1));
      if (fault === 'cut') setTimeout(() => res.socket?.destroy(), 5);
    });
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}
