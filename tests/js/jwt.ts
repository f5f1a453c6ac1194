// A user JWT for the Deno tests (tests/js/rest and edge_functions/tests), as Supabase Auth
// issues them: HS256 with the project's secret, role authenticated, sub, aud, and the
// workspace_id claim when given. No imports: both test suites load it by relative path.

function base64url(bytes: Uint8Array | string): string {
  const raw = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  return btoa(String.fromCharCode(...raw)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** An HS256 user JWT signed with `secret`, valid for 10 minutes. */
export async function userToken(
  secret: string,
  sub: string,
  workspaceId?: string,
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    role: "authenticated",
    aud: "authenticated",
    sub,
    iat: now,
    exp: now + 600,
  };
  if (workspaceId) claims.workspace_id = workspaceId;
  const input = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${
    base64url(JSON.stringify(claims))
  }`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const signature = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input));
  return `${input}.${base64url(new Uint8Array(signature))}`;
}
