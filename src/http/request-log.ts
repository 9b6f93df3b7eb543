import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import { problemTypeOf } from './problem.js';

/**
 * Logs one line per request, when it completes, under the label `request_id`. The line names the
 * path without its query string (a query may carry tokens or personal data, and no route reads
 * one) and, for an answer that is a problem, its type. Only a bug's 500 is logged as an error:
 * a client's mistake or a designed 503 (shedding, shutting down) is the service working.
 */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const problem_type = problemTypeOf(request);
    const line = {
      method: request.method,
      url: request.url.split('?', 1)[0],
      status_code: reply.statusCode,
      response_time_ms: reply.elapsedTime,
      ...(problem_type === undefined ? {} : { problem_type }),
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else if (reply.statusCode === 500) reply.log.error(line, 'request failed');
    else reply.log.info(line, 'request completed');
  }
}
