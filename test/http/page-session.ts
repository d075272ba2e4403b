import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/** A browser-like cookie jar over `app.inject`: keeps cookies the server sets, sends them back. */
export class PageSession {
  readonly cookies = new Map<string, string>();

  constructor(private readonly app: FastifyInstance) {}

  /** GET `url` with the jar's cookies. */
  get(url: string): Promise<LightMyRequestResponse> {
    return this.send('GET', url, undefined);
  }

  /** POST a urlencoded form to `url` with the jar's cookies. */
  post(url: string, form: Record<string, string>): Promise<LightMyRequestResponse> {
    return this.send('POST', url, new URLSearchParams(form).toString());
  }

  /** Signs in with `token` (GET the form for its CSRF token, POST it). @returns the POST's response */
  async signIn(token: string): Promise<LightMyRequestResponse> {
    const page = await this.get('/ui/sign-in');
    return this.post('/ui/sign-in', { _csrf: csrfOf(page.body), token });
  }

  private async send(method: 'GET' | 'POST', url: string, payload: string | undefined): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({
      method,
      url,
      payload,
      headers: payload === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
      cookies: Object.fromEntries(this.cookies),
    });
    for (const cookie of response.cookies as { name: string; value: string; expires?: Date }[]) {
      if (cookie.value === '' || (cookie.expires !== undefined && cookie.expires.getTime() < Date.UTC(2000, 0, 1))) this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }
}

/** The first `_csrf` hidden field's value in an HTML page. @throws Error when the page has none */
export function csrfOf(html: string): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(html);
  if (match === null) throw new Error('page has no _csrf field');
  return match[1] as string;
}
