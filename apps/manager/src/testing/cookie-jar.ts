/** A cookie jar for one test client: remembers `Set-Cookie` answers, sends them back. */
export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Records the response's cookies (Max-Age=0 or an empty value removes one). */
  store(res: Response): void {
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  /** A fetch that sends and records this jar's cookies. */
  fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const headers = new Headers(init?.headers);
    const cookie = this.header();
    if (cookie) headers.set('cookie', cookie);
    const res = await fetch(input, { ...init, headers });
    this.store(res);
    return res;
  };
}
