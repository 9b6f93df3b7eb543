import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * Logs one line per request, when it completes, under the label `request_id`. The line names the
 * path without its query string: a query may carry tokens or personal data, and no route reads one.
 */
export class RequestLogController extends LogController {
  constructor() {
    super({ requestIdLogLabel: 'request_id' });
  }

  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const line = {
      method: request.method,
      url: request.url.split('?', 1)[0],
      status_code: reply.statusCode,
      response_time_ms: reply.elapsedTime,
    };
    if (error) reply.log.error({ ...line, err: error }, 'request errored');
    else reply.log.info(line, 'request completed');
  }
}
