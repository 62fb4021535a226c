/**
 * base + request target. Concatenated as text so a target like `//evil.example/x` stays a path
 * on the upstream and can never name another host.
 */
export function upstreamUrl(base: URL, target: string): URL {
  const prefix = base.href.endsWith('/') ? base.href.slice(0, -1) : base.href;
  const url = new URL(prefix + target);
  if (url.host !== base.host) throw new Error('request target would leave the upstream');
  return url;
}
