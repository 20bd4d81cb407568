#!/usr/bin/env node
// The local S3 server of `deploy/local/start.sh --persistent`: s3rver (objects kept as plain files
// under a directory) plus S3's conditional writes, `PUT` with `If-None-Match: *` or
// `If-Match: <etag>`, which s3rver 3.7 ignores. Tansu's s3:// storage engine depends on them: it
// updates its metadata and every partition's watermark optimistically, from its cached copy, and
// re-reads only when the store refuses the write with 412. Without the check, a restarted broker
// writes over what it has not read yet (a partition's first produce after a restart lands at
// offset 0 again, over the records already there).
//
// Usage: NODE_PATH=<dir holding node_modules/s3rver> node s3rver.js <data dir> <port> [bucket]
// Listens on 127.0.0.1 only. Credentials are s3rver's fixed S3RVER / S3RVER.
'use strict';

const S3rver = require('s3rver');
const S3Error = require('s3rver/lib/models/error');

const [directory, port, bucket = 'tansu'] = process.argv.slice(2);
if (!directory || !port) {
  console.error('usage: s3rver.js <data dir> <port> [bucket]');
  process.exit(2);
}

const server = new S3rver({
  directory,
  address: '127.0.0.1',
  port: Number(port),
  silent: true,
  configureBuckets: [{ name: bucket, configs: [] }],
});

// One conditional write at a time per key, so that the check and the write cannot interleave
// with another writer's.
const queues = new Map();
async function serialised(key, work) {
  const before = queues.get(key) || Promise.resolve();
  let done;
  const mine = before.then(() => new Promise((resolve) => (done = resolve)));
  queues.set(key, mine);
  await before;
  try {
    return await work();
  } finally {
    done();
    if (queues.get(key) === mine) queues.delete(key);
  }
}

const bare = (etag) => etag.replace(/^W\//, '').replace(/"/g, '');

async function conditionalPut(ctx, next) {
  const ifNoneMatch = ctx.get('if-none-match');
  const ifMatch = ctx.get('if-match');
  const target = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
  if (ctx.method !== 'PUT' || (!ifNoneMatch && !ifMatch) || !target || Object.keys(ctx.query).length) {
    return next();
  }
  const [, objectBucket, encodedKey] = target;
  const key = decodeURIComponent(encodedKey);
  return serialised(`${objectBucket}/${key}`, async () => {
    let etag = null;
    try {
      etag = (await server.store.getMetadata(objectBucket, key)).etag;
    } catch (err) {
      if (err.code !== 'ENOENT') throw err;
    }
    if (ifNoneMatch && etag !== null && (ifNoneMatch === '*' || bare(ifNoneMatch) === bare(etag))) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
        Condition: 'If-None-Match',
      });
    }
    if (ifMatch && etag === null) {
      throw new S3Error('NoSuchKey', 'The specified key does not exist.', { Key: key });
    }
    if (ifMatch && ifMatch !== '*' && bare(ifMatch) !== bare(etag)) {
      throw new S3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', {
        Condition: 'If-Match',
      });
    }
    await next();
  });
}

// After s3rver's own middleware (logging, XML bodies, virtual-host paths), before its router.
server.middleware.splice(server.middleware.length - 1, 0, conditionalPut);

server.run((err, { address, port: listening } = {}) => {
  if (err) {
    console.error(err);
    process.exit(1);
  }
  console.log(`s3rver (with conditional writes) on http://${address}:${listening}, data in ${directory}`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  // Stop taking requests, give the ones in flight half a second, and leave.
  process.on(signal, () => {
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 500).unref();
  });
}
