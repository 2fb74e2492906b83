// A WorkerEntrypoint class as the default export (cloudflare:workers).
import { WorkerEntrypoint } from 'cloudflare:workers';

export default class extends WorkerEntrypoint {
  async fetch(request) {
    const url = new URL(request.url);
    return Response.json({
      path: url.pathname,
      env: this.env.SERVICE_NAME,
      hasCtx: typeof this.ctx.waitUntil === 'function',
      isEntrypoint: this instanceof WorkerEntrypoint,
    });
  }
}
