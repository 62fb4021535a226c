import { html, type Interpolation, type SafeHtml } from './html.js';

// Owners see their sites and what concerns them; the fleet-wide pages are admins'.
export const navItems = [
  { href: '/', label: 'Overview', key: 'overview', owner: false },
  { href: '/nodes', label: 'Nodes', key: 'nodes', owner: false },
  { href: '/audits', label: 'Audits', key: 'audits', owner: true },
  { href: '/map', label: 'Map', key: 'map', owner: false },
  { href: '/sites', label: 'Sites', key: 'sites', owner: true },
  { href: '/notifications', label: 'Notifications', key: 'notifications', owner: true },
  { href: '/credit', label: 'Credit', key: 'credit', owner: false },
  { href: '/users', label: 'Users', key: 'users', owner: false },
  { href: '/admin-log', label: 'Admin log', key: 'admin-log', owner: true },
  { href: '/account', label: 'Account', key: 'account', owner: true },
] as const;
export type NavKey = (typeof navItems)[number]['key'];
export type Viewer = 'admin' | 'owner';

export interface PageOptions {
  title: string;
  nav: NavKey | null;
  /** The session's CSRF token, for the logout form; null for bearer callers. */
  csrfToken: string | null;
  body: Interpolation;
  flash?: string | null;
  /** Whose navigation to show (default an admin's). */
  viewer?: Viewer;
}

// No inline script or style anywhere: the CSP only allows files from /assets/.
const htmxConfig = JSON.stringify({ includeIndicatorStyles: false, allowEval: false, allowScriptTags: false, selfRequestsOnly: true, historyCacheSize: 0 });

function head(title: string): SafeHtml {
  return html`<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<meta name="htmx-config" content="${htmxConfig}">
<title>${title} · Verity</title>
<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/assets/vendor/uPlot.min.css">
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/vendor/htmx.min.js" defer></script>
<script src="/assets/vendor/uPlot.iife.min.js" defer></script>
<script src="/assets/app.js" defer></script>
</head>`;
}

export function page(o: PageOptions): SafeHtml {
  const nav = navItems.filter((n) => o.viewer !== 'owner' || n.owner).map((n) => html`<a href="${n.href}"${o.nav === n.key ? html` aria-current="page" class="active"` : ''}>${n.label}</a>`);
  const logout = o.csrfToken
    ? html`<form method="post" action="/logout" class="logout"><input type="hidden" name="_csrf" value="${o.csrfToken}"><button type="submit" class="link">Log out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en">
${head(o.title)}
<body>
<header class="top"><a class="brand" href="/"><img src="/assets/favicon.svg" alt="" width="22" height="22">Verity</a><nav>${nav}</nav>${logout}</header>
<main>
${o.flash ? html`<p class="flash" role="status">${o.flash}</p>` : ''}
${o.body}
</main>
</body>
</html>`;
}

/** A page with no navigation (login). */
export function barePage(title: string, body: Interpolation): SafeHtml {
  return html`<!doctype html>
<html lang="en">
${head(title)}
<body class="bare">
<main>${body}</main>
</body>
</html>`;
}
