/** The host a Host header, :authority or SNI name names: lower case, no port, no final dot ("site.test." is site.test). */
export function hostOf(raw: string): string {
  const host = raw.trim().toLowerCase().replace(/\.(?=:\d+$|$)/, '');
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
