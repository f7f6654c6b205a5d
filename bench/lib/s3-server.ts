// An S3-protocol server (s3rver, through the tests' own test/helpers/s3.ts: a temporary directory, one bucket) in a
// process of its own, for benchmarks that measure a process talking to a bucket: the bucket is an outside service, so
// its memory and CPU must not count as the measured process's. Prints one line
// `{"s3":{"endpoint","bucket","credentials"}}` when listening; removes its directory when it stops.
//
//   S3_BUCKET (default media)
import { startS3 } from '../../test/helpers/s3.ts';

const s3 = await startS3(process.env.S3_BUCKET || 'media');
process.stdout.write(`${JSON.stringify({ s3: { endpoint: s3.endpoint, bucket: s3.bucket, credentials: s3.credentials } })}\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  // process.exit after the directory is gone: a --cpu-prof profile is written on a normal exit, not on a signal.
  void s3.stop().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The bench that started this process is gone: do not outlive it.
process.on('disconnect', stop);
