/**
 * The flags node runs the server with: `npm start` (package.json) and the container's CMD
 * (Dockerfile) pass exactly these, and test/deploy/container.test.ts checks that they do.
 *
 * `--single-threaded-gc`: V8 collects on the event loop's thread alone, without helper threads.
 * A replica gets one core (deploy/kubernetes/deployment.yaml limits it to one CPU), and there
 * the helper threads only take turns with the event loop: beside a client posting
 * 10000-worker deltas back to back, quotes' p99 was 21.6 to 25.6 ms with them and 13.4 to
 * 14.6 ms without, in three rounds each, with small requests as fast as before (BENCHMARKS.md).
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
