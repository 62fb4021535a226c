// A tiny cookie-keeping HTTP client for dashboard integration tests (real sockets, no browser).

export interface DashboardClient {
  cookies: Map<string, string>;
  get: (path: string, headers?: Record<string, string>) => Promise<Response>;
  postForm: (path: string, form: Record<string, string>, headers?: Record<string, string>) => Promise<Response>;
  login: (token: string) => Promise<Response>;
  csrfFrom: (html: string) => string;
}

function keep(cookies: Map<string, string>, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair] = line.split(';');
    const eq = (pair ?? '').indexOf('=');
    if (eq <= 0 || !pair) continue;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (value === '' || /Max-Age=0/i.test(line)) cookies.delete(name);
    else cookies.set(name, value);
  }
}

export function csrfFrom(html: string): string {
  const m = /name="_csrf" value="([^"]*)"/.exec(html);
  if (!m?.[1]) throw new Error('no CSRF field on the page');
  return m[1];
}

export function dashboardClient(baseUrl: string): DashboardClient {
  const cookies = new Map<string, string>();
  const cookieHeader = (): Record<string, string> => (cookies.size ? { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') } : {});
  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${baseUrl}${path}`, { headers: { ...cookieHeader(), ...headers }, redirect: 'manual' });
    keep(cookies, res);
    return res;
  };
  const postForm = async (path: string, form: Record<string, string>, headers: Record<string, string> = {}) => {
    const res = await fetch(`${baseUrl}${path}`, {
      method: 'POST', redirect: 'manual', body: new URLSearchParams(form).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...cookieHeader(), ...headers },
    });
    keep(cookies, res);
    return res;
  };
  const login = async (token: string) => {
    const page = await (await get('/login')).text();
    return postForm('/login', { token, _csrf: csrfFrom(page), next: '/' });
  };
  return { cookies, get, postForm, login, csrfFrom };
}
