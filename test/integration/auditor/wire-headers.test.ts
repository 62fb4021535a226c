import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectNodeFetcher } from '../../../auditor/fetch/fetchers.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpClient, openConnections, type HttpClient } from '../../../auditor/fetch/http-client.js';
import { browserHeaders } from '../../../auditor/fetch/request-headers.js';
import { drawVisitor } from '../../../auditor/fetch/visitor-profile.js';
import { startSampleOrigin, type SampleOrigin } from '../../support/origin/index.js';
import { startRogueNode, type RogueNode } from '../../support/rogue-node.js';
import { seededRandom } from '../../support/auditor/seeded.js';

// What reaches the wire is exactly the visitor's browser header set, in its order: Node's HTTP
// client adds, drops or reorders nothing.

let origin: SampleOrigin;
let node: RogueNode;
let client: HttpClient;

beforeAll(async () => {
  origin = await startSampleOrigin();
  node = await startRogueNode({ originUrl: origin.url });
  client = createHttpClient();
});

afterAll(async () => {
  client.close();
  await node.close();
  await origin.close();
});

describe('audit requests on the wire', () => {
  it('carry each drawn browser header set unchanged and in order', async () => {
    const random = seededRandom(17);
    for (let i = 0; i < 12; i++) {
      const profile = drawVisitor(random);
      const fetcher = createDirectNodeFetcher(client, node.url, 'shop.example', profile, { timeoutMs: 5000, maxBytes: 1_000_000 });
      await fetcher('/about', 'document');
      await fetcher('/static/site.css', 'style', 'http://shop.example/about');
      const seen = node.stats.seen.slice(-2);
      const expected = [
        browserHeaders(profile, { host: 'shop.example', destination: 'document', secure: false }),
        browserHeaders(profile, { host: 'shop.example', destination: 'style', secure: false, referer: 'http://shop.example/about' }),
      ];
      seen.forEach((s, j) => {
        const pairs: Array<[string, string]> = [];
        for (let k = 0; k < s.rawHeaders.length; k += 2) pairs.push([s.rawHeaders[k] ?? '', s.rawHeaders[k + 1] ?? '']);
        expect(pairs).toEqual(expected[j]);
      });
    }
  });
});

describe('a visit\'s connections', () => {
  it('are its own: reused between its requests, never shared with another visit or the auditor\'s pool, closed when it leaves', async () => {
    const ports: number[] = [];
    let open = 0;
    const server = createServer((req, res) => {
      ports.push(req.socket.remotePort ?? 0);
      res.end('ok');
    });
    server.on('connection', (s) => {
      open++;
      s.on('close', () => open--);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const get = (connections?: ReturnType<typeof openConnections>) => client.get({ url, headers: [['Host', 'shop.example']], timeoutMs: 5000, maxBytes: 1000, connections });
    try {
      const first = openConnections();
      const second = openConnections();
      await get(first);
      await get(first);
      await get(second);
      await get();
      expect(ports[0]).toBe(ports[1]);
      expect(new Set(ports.slice(1)).size).toBe(3);
      expect(open).toBe(3);
      first.close();
      second.close();
      await expect.poll(() => open).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
