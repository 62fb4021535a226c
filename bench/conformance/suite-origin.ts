import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The suite's origin server (test/conformance/cache-tests/test-engine/server), run on 127.0.0.1
// only: its own server.mjs listens on every interface and writes a pid file, so this file
// dispatches to its handlers the same way server.mjs does. It adds one thing: `/` answers a
// small cacheable page, so the runner can see when the balancer routes the site to its node.

type Handler = (pathSegs: string[], request: IncomingMessage, response: ServerResponse) => void;

export const SUITE_DIR = fileURLToPath(new URL('../../test/conformance/cache-tests/', import.meta.url));

async function handler(name: string): Promise<Handler> {
  const mod = (await import(pathToFileURL(`${SUITE_DIR}test-engine/server/${name}.mjs`).href)) as { default: Handler };
  return mod.default;
}

export async function serveSuiteOrigin(): Promise<string> {
  const [config, test, state] = await Promise.all([handler('handle-config'), handler('handle-test'), handler('handle-state')]);
  const byName: Record<string, Handler> = { config, test, state };
  const server = createServer((req, res) => {
    const segs = new URL(req.url ?? '/', 'http://origin.invalid/').pathname.split('/').slice(1);
    const first = segs.shift() ?? '';
    const dispatch = byName[first];
    if (dispatch) return dispatch(segs, req, res);
    if (first === '') {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'public, max-age=3600' });
      return void res.end('cache-tests origin\n');
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not a suite path\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.stdout.write(`suite origin: ${await serveSuiteOrigin()}\n`);
