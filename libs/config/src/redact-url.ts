/** Passwords in URLs: shown as `***`, and refused in URL settings. Isomorphic. */

/**
 * `url` with the password of its user info shown as `***` (`http://user:***@host/…`), for
 * anything that shows where an item sends (the sandbox, logs, errors). Anything else is returned
 * as it is.
 */
export function redactUrl(url: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!m) return url;
  const authority = m[2]!;
  const at = authority.lastIndexOf('@');
  if (at < 0) return url;
  const userinfo = authority.slice(0, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return url;
  return `${m[1]}${userinfo.slice(0, colon)}:***${authority.slice(at)}${url.slice(m[0].length)}`;
}

/** Whether a URL carries a password in its user info (`https://user:password@host/…`). */
export function urlHasPassword(url: string): boolean {
  return redactUrl(url) !== url;
}

/**
 * Why a URL setting refuses a password in it: a URL is not a secret setting, so the password
 * would be stored in plain text and shown to everyone who can view the project.
 */
export const URL_PASSWORD_MESSAGE = 'must not hold a password (user:password@host): a URL is shown to every viewer; send credentials in a secret setting instead';
