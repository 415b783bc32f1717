// How a host page gets a session token: from its own server, which asks the Connect UI backend
// (POST /sessions with the host API key). Here the reference backend runs in dev mode, whose
// POST /dev/sessions needs no key. A backend without that route: no token.
// `?session=` (JSON) is the session request: `connection_id` for a reconnect, `label`, ….
export async function getSessionToken(backendUrl) {
  const body = new URLSearchParams(location.search).get('session');
  const init = body ? { method: 'POST', headers: { 'Content-Type': 'application/json' }, body } : { method: 'POST' };
  const res = await fetch(`${backendUrl}/dev/sessions`, init);
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`POST /dev/sessions answered ${res.status}`);
  return (await res.json()).token;
}

/** The test pages take the backend's URL from ?backend= (each test run has its own port). */
export const params = new URLSearchParams(location.search);
export const backendUrl = params.get('backend');
