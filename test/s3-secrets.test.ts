/**
 * Secrets stay secret on S3 too (issue 13 item 1): the access key, the secret key, a session token and an
 * endpoint's userinfo never appear in any error (message, stack, cause chain, JSON), in a source's name, or
 * in disk-cache file names, whether the credentials come as options or from the SDK's chain (environment),
 * and whatever fails: missing object, access denied, retries given up, a changed object, listings.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { listS3, S3Source } from '../src/index.js';
import { tempDir } from './support/fixtures.js';
import { ACCESS_KEY, SECRET_KEY, startFaultProxy, startS3, useTestCredentials, type FaultProxy, type S3Server } from './support/s3.js';

const BUCKET = 'seekdata-secrets';
const TOKEN = 'SessionTokenSEEKDATA/zzTOPsecret+9876';
const WRONG_SECRET = 'WrongSecretButStillSecret/abcdefgh12345';
const PASSWORD = 'endpointPASSWORD123';
const WRONG_KEY = 'AKIAWRONGKEYSEEKDATA';
let s3: S3Server;
let proxy: FaultProxy;
const tmp = tempDir('seekdata-s3-secrets-');

beforeAll(async () => {
  useTestCredentials();
  s3 = await startS3();
  await s3.createBucket(BUCKET);
  await s3.put(BUCKET, 'obj.csv', new Uint8Array(50_000).fill(65));
  proxy = await startFaultProxy(s3.port);
});
afterAll(async () => {
  await proxy.close();
  await s3.close();
  tmp.cleanup();
});

/** Everything an error shows, however it is printed. */
function shown(error: unknown): string {
  return [String(error), inspect(error, { depth: 12, showHidden: true }), JSON.stringify(error), (error as Error).stack ?? ''].join('\n');
}

function expectClean(text: string): void {
  for (const secret of [SECRET_KEY, ACCESS_KEY, TOKEN, WRONG_KEY, WRONG_SECRET, PASSWORD, encodeURIComponent(SECRET_KEY)]) expect(text).not.toContain(secret);
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

const viaOptions = { credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY } };
const viaEnv = {};

describe.each([
  ['credentials as options', viaOptions],
  ['credentials from the environment (SDK chain)', viaEnv],
])('no secret in any error: %s', (_label, credentials) => {
  it('missing object and bucket, retries given up, a changed object, a listing given up', async () => {
    const errors: unknown[] = [];
    errors.push(await failure(S3Source.open(`s3://${BUCKET}/missing.csv`, { endpoint: s3.endpoint, ...credentials })));
    errors.push(await failure(S3Source.open('s3://no-such-bucket-here/x.csv', { endpoint: s3.endpoint, ...credentials })));
    const source = await S3Source.open(`s3://${BUCKET}/obj.csv`, { endpoint: proxy.url, retry: { maxAttempts: 2, baseDelayMs: 1 }, ...credentials });
    expectClean(source.name + String(source.version));
    proxy.setPlan({ fault: (_n, req) => (req.method === 'GET' ? 'slowdown' : 'pass') });
    try {
      const given = await failure(source.read(10, 10));
      expect(given.code).toBe('SOURCE_ERROR');
      errors.push(given);
      const listed = await failure(listS3(`s3://${BUCKET}/*.csv`, { endpoint: proxy.url, retry: { maxAttempts: 2, baseDelayMs: 1 }, ...credentials }));
      expect(listed.code).toBe('SOURCE_ERROR');
      errors.push(listed);
      proxy.setPlan({ fault: (_n, req) => (req.method === 'GET' ? 'drop' : 'pass') });
      errors.push(await failure(source.read(10, 10)));
    } finally {
      proxy.setPlan({});
    }
    await s3.put(BUCKET, 'obj.csv', new Uint8Array(50_000).fill(66));
    const stale = await failure(source.read(0, 10));
    expect(stale.code).toBe('STALE_SOURCE');
    errors.push(stale);
    await s3.put(BUCKET, 'obj.csv', new Uint8Array(50_000).fill(65));
    for (const error of errors) expectClean(shown(error));
  });
});

describe('no secret in any error: wrong credentials, tokens, endpoints', () => {
  it('access denied (an unknown access key: s3rver does not check SigV4 signatures) with a session token', async () => {
    const denied = await failure(S3Source.open(`s3://${BUCKET}/obj.csv`, { endpoint: s3.endpoint, credentials: { accessKeyId: WRONG_KEY, secretAccessKey: WRONG_SECRET, sessionToken: TOKEN } }));
    expect(denied.code).toBe('HTTP_ERROR');
    expect(denied.message).toMatch(/access denied/);
    expectClean(shown(denied));
  });

  it('an endpoint with userinfo or a query is refused, shown redacted', async () => {
    for (const endpoint of [`http://user:${PASSWORD}@127.0.0.1:${s3.port}`, `http://127.0.0.1:${s3.port}/?token=${PASSWORD}`]) {
      const error = await failure(S3Source.open(`s3://${BUCKET}/obj.csv`, { endpoint }));
      expect(error.code).toBe('INVALID_OPTION');
      expect(error.message).toContain('…redacted');
      expectClean(shown(error));
    }
    process.env.AWS_ENDPOINT_URL = `http://user:${PASSWORD}@127.0.0.1:${s3.port}`;
    try {
      const error = await failure(S3Source.open(`s3://${BUCKET}/obj.csv`));
      expect(error.message).toContain('AWS_ENDPOINT_URL');
      expectClean(shown(error));
    } finally {
      delete process.env.AWS_ENDPOINT_URL;
    }
  });

  it('disk-cache file names hold neither secrets nor the object name', async () => {
    const dir = join(tmp.dir, 'cache');
    const source = await S3Source.open(`s3://${BUCKET}/obj.csv`, { endpoint: s3.endpoint, remoteCacheDir: dir, ...viaOptions });
    await source.read(0, 1000);
    const names = readdirSync(dir).join('\n');
    expect(names).toMatch(/^[0-9a-f]{40}\.blk$/m);
    expectClean(names);
    expect(names).not.toMatch(/obj|secrets/);
  });
});
