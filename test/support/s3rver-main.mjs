// Runs s3rver 3.7 as a process of its own (test/support/s3.ts starts it): on 127.0.0.1 at a free port,
// storing into the directory given, accepting the test key pair given. Prints the port, then serves
// until killed. Started with --openssl-legacy-provider: s3rver makes ListObjectsV2 continuation tokens
// with DES, which OpenSSL 3 leaves out by default (without it every truncated listing is a 500).
import process from 'node:process';
import S3rver from 's3rver';
import accounts from 's3rver/lib/models/account.js';

const [directory, accessKeyId, secretAccessKey] = process.argv.slice(2);
accounts.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, vhostBuckets: false });
const { port } = await server.run();
process.stdout.write(`${port}\n`);
process.on('SIGTERM', () => {
  server.close().finally(() => process.exit(0));
});
