import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

// Every asset the pages use is served from here: the dashboard makes no request elsewhere.

const require = createRequire(import.meta.url);
const assetsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'assets');

interface Asset {
  type: string;
  body: Buffer;
}

function load(): Map<string, Asset> {
  const own: [string, string][] = [['app.css', 'text/css; charset=utf-8'], ['app.js', 'text/javascript; charset=utf-8'], ['favicon.svg', 'image/svg+xml']];
  const vendor: [string, string, string][] = [
    ['vendor/htmx.min.js', 'htmx.org/dist/htmx.min.js', 'text/javascript; charset=utf-8'],
    ['vendor/uPlot.iife.min.js', 'uplot/dist/uPlot.iife.min.js', 'text/javascript; charset=utf-8'],
    ['vendor/uPlot.min.css', 'uplot/dist/uPlot.min.css', 'text/css; charset=utf-8'],
  ];
  const assets = new Map<string, Asset>();
  for (const [name, type] of own) assets.set(name, { type, body: readFileSync(join(assetsDir, name)) });
  for (const [name, spec, type] of vendor) assets.set(name, { type, body: readFileSync(require.resolve(spec)) });
  return assets;
}

export function assetRoutes(app: FastifyInstance): void {
  const assets = load();
  app.get<{ Params: { '*': string } }>('/assets/*', async (req, reply) => {
    const asset = assets.get(req.params['*']);
    if (!asset) return reply.code(404).header('content-type', 'text/plain; charset=utf-8').send('no such asset');
    return reply.header('content-type', asset.type).header('cache-control', 'public, max-age=300').send(asset.body);
  });
}
