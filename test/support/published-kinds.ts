// Bytes of every kind a site publishes, none chosen by a list of extensions: downloads, an
// extensionless image URL, a stable HTML page labelled in upper case, JSON, a web manifest, and
// an HLS playlist with a segment. Tests serve them from the origin and let a node swap them.
export const PUBLISHED_KINDS: Record<string, { body: Buffer | string; type: string }> = {
  '/downloads/app.tar.gz': { body: Buffer.alloc(300_000, 7), type: 'application/gzip' },
  '/_next/image?url=%2Fa.png&w=64': { body: Buffer.alloc(50_000, 3), type: 'image/webp' },
  '/article.html': { body: '<!doctype html><html><body><p>IBAN DE00 1234</p></body></html>', type: 'TEXT/HTML; Charset=UTF-8' },
  '/data.json': { body: '{"account":"DE00 1234"}', type: 'application/json' },
  '/site.webmanifest': { body: '{"name":"site","start_url":"/"}', type: 'application/manifest+json' },
  '/live/index.m3u8': { body: '#EXTM3U\n#EXTINF:4,\nseg0.ts\n', type: 'application/vnd.apple.mpegurl' },
  '/live/seg0.ts': { body: Buffer.alloc(200_000, 0x47), type: 'video/mp2t' },
};
