/**
 * The session cookie. Over TLS it is `__Host-vigil_session` (Secure, Path=/, no Domain: the
 * browser refuses it over plain HTTP or from another host). In plain-HTTP development mode the
 * `__Host-` prefix and Secure flag cannot be used, so it is `vigil_session` without Secure —
 * never run like that beyond localhost.
 */
export interface CookieMode {
  name: string;
  secure: boolean;
}

export function cookieMode(secure: boolean): CookieMode {
  return secure ? { name: '__Host-vigil_session', secure } : { name: 'vigil_session', secure };
}

/** The value of one cookie from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Set-Cookie for a session token; the cookie lives no longer than the session's absolute limit. */
export function sessionCookie(mode: CookieMode, token: string, maxAgeSeconds: number): string {
  return [
    `${mode.name}=${token}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    ...(mode.secure ? ['Secure'] : []),
  ].join('; ');
}

/** Set-Cookie that removes the session cookie. */
export function clearedCookie(mode: CookieMode): string {
  return sessionCookie(mode, '', 0);
}
