import { barePage } from './layout.js';
import { html, type SafeHtml } from './html.js';

export function loginPage(o: { csrf: string; next: string; error: string | null }): SafeHtml {
  return barePage('Log in', html`<section class="login card">
<h1><img src="/assets/favicon.svg" alt="" width="28" height="28"> Verity</h1>
<p>Paste the admin token: it was printed when the balancer first started (<code>admin token: …</code>), or set with <code>VERITY_ADMIN_TOKEN</code>.</p>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${o.csrf}">
<input type="hidden" name="next" value="${o.next}">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
</section>`);
}
