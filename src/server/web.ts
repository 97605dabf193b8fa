/**
 * Serves the dashboard (web/, built by `npm run build` into dist/web) at `/` from the same
 * process as the API (DESIGN.md §12): hashed assets with long caching, index.html for `/` and
 * for every client route (the SPA fallback: a GET for HTML outside /v1 and /docs), with a
 * Content-Security-Policy that allows only this origin's scripts.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Where the built dashboard is: dist/web beside the compiled server, or from the sources. */
export function webRoot(): string | undefined {
  const candidates = [new URL('../web/', import.meta.url), new URL('../../dist/web/', import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (fs.existsSync(`${dir}index.html`)) return dir;
  }
  return undefined;
}

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
  "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const MISSING = `<!doctype html><html lang="en"><title>shiplog</title><body>
<h1>shiplog</h1><p>The dashboard is not built: run <code>npm run build</code> (or <code>npm start</code>).
The API is at <a href="/docs">/docs</a>.</p></body></html>`;

/** Whether an unknown route is a page of the dashboard (client-side routing) rather than an API call. */
export function isDashboardPage(request: FastifyRequest): boolean {
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const path = request.url.split('?')[0] ?? '';
  if (path.startsWith('/v1/') || path === '/v1' || path.startsWith('/docs')) return false;
  return (request.headers.accept ?? '').includes('text/html');
}

export interface Dashboard {
  /** Answers the dashboard's index.html (for `/` and the SPA fallback). */
  sendIndex(reply: FastifyReply): FastifyReply;
}

export async function registerDashboard(app: FastifyInstance, root = webRoot()): Promise<Dashboard> {
  const index = root === undefined ? MISSING : fs.readFileSync(`${root}index.html`, 'utf8');
  const sendIndex = (reply: FastifyReply) =>
    reply
      .status(200)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .header('content-security-policy', CSP)
      .header('x-content-type-options', 'nosniff')
      .send(index);
  app.get('/', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) =>
    sendIndex(reply),
  );
  if (root !== undefined) {
    await app.register(async function dashboardAssets(scope) {
      scope.addHook('onRoute', (route) => {
        route.config = { ...route.config, access: 'public' };
        route.schema = { ...route.schema, hide: true };
      });
      await scope.register(fastifyStatic, {
        root,
        wildcard: false,
        index: false,
        serve: true,
        setHeaders(res, file) {
          void res.header('x-content-type-options', 'nosniff');
          if (file.includes('/assets/'))
            void res.header('cache-control', 'public, max-age=31536000, immutable');
        },
        // index.html is answered by sendIndex (with its CSP), never as a static file.
        globIgnore: ['index.html'],
      });
    });
  }
  return { sendIndex };
}
