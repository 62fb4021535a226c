import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A news site as real ones are (issue 14's "Done when"): every page embeds ad and analytics
// scripts with random cache-busters (`ord=…`, `cb=…`, `cid=…`), ad hosts that rotate both on
// the server (which ad server renders the frame) and in the browser (which shard a tag loads
// from), a trending list in random order and a per-page Link header. Generated here: nothing is
// fetched from the Internet (the auditor's browser blocks every third-party host anyway).

export interface AdSite {
  url: string;
  pages: string[];
  close(): Promise<void>;
}

const articles: Record<string, { title: string; body: string }> = {
  '/': { title: 'Front page', body: 'Council approves the new tram line after a long debate.' },
  '/article/1': { title: 'Tram line approved', body: 'The city council voted 31 to 12 for the new tram line on Tuesday.' },
  '/article/2': { title: 'Harbour festival returns', body: 'The harbour festival returns this summer with 40 stalls and a night market.' },
  '/article/3': { title: 'School reopens', body: 'The renovated school on Elm Street reopens in September for 420 pupils.' },
};

const trending = ['Tram line approved', 'Harbour festival returns', 'School reopens', 'Weather: a mild week ahead', 'Local team wins the cup'];

function page(path: string, random: () => number): string {
  const a = articles[path] ?? articles['/'] ?? { title: '', body: '' };
  const n = (digits: number) => String(Math.floor(random() * 10 ** digits)).padStart(digits, '0');
  const adServer = ['ads-a', 'ads-b', 'ads-c'][Math.floor(random() * 3)] ?? 'ads-a';
  const order = [...trending].sort(() => random() - 0.5);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${a.title} · The Daily Example</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/news.css">
<script async src="https://securepubads.adnet.example/tag/js/gpt.js"></script>
<script>window.dataLayer = window.dataLayer || []; window.dataLayer.push({ page: ${JSON.stringify(path)}, pv: "${n(12)}" });
(function () { var s = document.createElement('script'); s.async = true; s.src = 'https://www.analytics.example/analytics.js?cb=' + Date.now(); document.head.appendChild(s); })();</script>
</head><body>
<header><a href="/"><img src="/static/logo.png" alt="The Daily Example"></a><nav><a href="/article/1">City</a> <a href="/article/2">Culture</a> <a href="/article/3">Schools</a></nav></header>
<div class="ad top"><iframe src="https://${adServer}.adserve.example/frame?slot=top&amp;sz=728x90&amp;cb=${n(10)}" width="728" height="90" scrolling="no"></iframe></div>
<main><article><h1>${a.title}</h1><p class="byline">By the newsroom</p><p>${a.body}</p>
<div class="ad inline"><script>var ord = Math.random() * 10000000000000000;
document.write('<script src="https://ad' + (1 + Math.floor(Math.random() * 3)) + '.adnet.example/adj/daily/article;sz=300x250;ord=' + ord + '?"><\\/script>');</script></div>
<p>Readers can reach the newsroom at newsroom@daily.example.</p></article>
<aside><h2>Trending</h2><ol>${order.map((t) => `<li>${t}</li>`).join('')}</ol></aside></main>
<img src="https://px.analytics.example/collect?v=1&amp;t=pageview&amp;cid=${n(9)}.${n(10)}&amp;z=${n(8)}" width="1" height="1" alt="">
<footer><p>© The Daily Example</p></footer>
<script src="/static/site.js"></script>
</body></html>`;
}

const assets: Record<string, { type: string; body: string }> = {
  '/static/news.css': { type: 'text/css', body: 'body{font-family:serif;margin:0 auto;max-width:960px}.ad{background:#eee;margin:8px 0}aside{font-size:small}' },
  '/static/site.js': { type: 'text/javascript', body: "document.documentElement.classList.add('js');document.querySelectorAll('aside li').forEach(function(li,i){li.setAttribute('data-rank',String(i+1))});" },
  '/static/logo.png': { type: 'image/png', body: '' },
};

export async function startAdSite(random: () => number = Math.random): Promise<AdSite> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const asset = assets[path];
    if (asset) {
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'public, max-age=3600', 'content-length': String(Buffer.byteLength(asset.body)) });
      res.end(asset.body);
      return;
    }
    if (!articles[path]) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    const html = page(path, random);
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=60', 'content-length': String(Buffer.byteLength(html)),
      link: `<http://news.example/?p=${Object.keys(articles).indexOf(path) + 100}>; rel=shortlink`,
    });
    res.end(html);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    pages: Object.keys(articles),
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
