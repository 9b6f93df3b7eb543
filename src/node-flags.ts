/**
 * The flags node runs the server with: `npm start` (package.json) and the container's CMD
 * (Dockerfile) pass exactly these, and test/deploy/container.test.ts checks that they do.
 *
 * `--single-threaded-gc`: V8 collects on the event loop's thread alone, without helper threads.
 * A replica gets one core (deploy/kubernetes/deployment.yaml limits it to one CPU), and there
 * the helper threads only take turns with the event loop: beside a client posting
 * 10000-worker deltas back to back, quotes' p99 was 21.6 to 25.6 ms with them and 13.4 to
 * 14.6 ms without, in three rounds each, with small requests as fast as before (BENCHMARKS.md).
 *
 * `--initial-old-space-size=64`: the old generation may reach 64 MB before V8 judges it near its
 * limit. While large jobs go to the offload pool, the event loop's thread allocates little of its
 * own, and its limit stayed about 23 MB above a live heap of 19 MB. That is less room than V8
 * wants for its young generation, so V8 started a full collection every 200 ms or so, and each
 * one found nothing to free (22 MB -> 19 MB) but cost 25 to 30 ms. With the floor, a run had 7 or
 * 8 such collections instead of 22. Measured on Node 20, same build, same minute:
 * - batches of 100 deltas: 14 to 20% cheaper;
 * - back-to-back 10000-worker deltas from two clients: p99 151 to 154 ms instead of 586 to 611;
 * - small requests: no change.
 * Peak RSS under 16 such clients rose from 343 MB to 362 MB on Node 20, and from 533 MB to 632 MB
 * on Node 24, the image's line; deploy/kubernetes/deployment.yaml sizes the pod for that
 * (BENCHMARKS.md).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--single-threaded-gc', '--initial-old-space-size=64'];
