// How a host page gets a session token: from its own server, which asks the Connect UI backend
// (POST /sessions with the host API key). Here the reference backend runs in dev mode, whose
// POST /dev/sessions needs no key. A backend without that route: no token.
export async function getSessionToken(backendUrl) {
  const res = await fetch(`${backendUrl}/dev/sessions`, { method: 'POST' });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`POST /dev/sessions answered ${res.status}`);
  return (await res.json()).token;
}

/** The test pages take the backend's URL from ?backend= (each test run has its own port). */
export const params = new URLSearchParams(location.search);
export const backendUrl = params.get('backend');
