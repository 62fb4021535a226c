import { barePage } from './layout.js';
import { html, type SafeHtml } from './html.js';

// Two ways in: an account (e-mail and password), or the admin token (the first login, scripts).
export function loginPage(o: { csrf: string; next: string; error: string | null }): SafeHtml {
  return barePage('Log in', html`<section class="login card">
<h1><img src="/assets/favicon.svg" alt="" width="28" height="28"> Verity</h1>
${o.error ? html`<p class="error" role="alert">${o.error}</p>` : ''}
<form method="post" action="/login/password" class="account-login">
<input type="hidden" name="_csrf" value="${o.csrf}">
<input type="hidden" name="next" value="${o.next}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="username" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Log in</button>
</form>
<p class="small">Or paste the admin token: it was printed when the balancer first started (<code>admin token: …</code>), or set with <code>VERITY_ADMIN_TOKEN</code>.</p>
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${o.csrf}">
<input type="hidden" name="next" value="${o.next}">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Log in with the token</button>
</form>
</section>`);
}
