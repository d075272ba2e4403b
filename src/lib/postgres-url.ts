/** The problem text for a value that is not a PostgreSQL URL (the value itself may hold a password: never shown). */
export const POSTGRES_URL_MESSAGE = 'expected a PostgreSQL URL postgres://[user[:password]@]host[:port]/database (or postgresql://; value not shown)';

/**
 * Whether `text` is a PostgreSQL connection URL as node-postgres reads it (pg-connection-string):
 * scheme `postgres:` or `postgresql:`, a host (or a `host=` query parameter, e.g. a socket folder),
 * no spaces, and a user/password that decode.
 */
export function isPostgresUrl(text: string): boolean {
  if (!/^postgres(?:ql)?:\/\//i.test(text) || /\s/.test(text)) return false;
  let url: URL;
  try {
    url = new URL(text);
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
  } catch (error) {
    if (error instanceof TypeError || error instanceof URIError) return false;
    throw error;
  }
  return url.hostname !== '' || url.searchParams.has('host');
}
