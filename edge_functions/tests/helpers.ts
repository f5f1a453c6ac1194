// Shared by the Edge Functions' tests: users, workspaces and data made through the api as a
// Supabase app would (REST with user JWTs minted with the project's secret), and calls of the
// functions through the gateway's /functions/v1. The stack comes from the environment:
// SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_JWT_SECRET (tests/py/artifacts/test_edge_functions.py).

import { userToken as mintUserToken } from "../../tests/js/jwt.ts";

export const URL_ = Deno.env.get("SUPABASE_URL")!.replace(/\/+$/, "");
export const ANON_KEY = Deno.env.get("SUPABASE_ANON_KEY")!;
const JWT_SECRET = Deno.env.get("SUPABASE_JWT_SECRET")!;

/** A user JWT signed with the project's secret (tests/js/jwt.ts). */
export function userToken(sub: string, workspaceId?: string): Promise<string> {
  return mintUserToken(JWT_SECRET, sub, workspaceId);
}

export interface User {
  id: string;
  workspaceId: string;
  token: string;
}

export async function rpc(token: string, fn: string, args: Record<string, unknown> = {}) {
  const answer = await fetch(`${URL_}/rest/v1/rpc/${fn}`, {
    method: "POST",
    headers: {
      apikey: ANON_KEY,
      authorization: `Bearer ${token}`,
      "content-type": "application/json",
      "content-profile": "api",
    },
    body: JSON.stringify(args),
  });
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${fn}: ${answer.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A new user who owns a new workspace. */
export async function newWorkspace(label: string): Promise<User> {
  const id = crypto.randomUUID();
  const created = await rpc(await userToken(id), "create_workspace", {
    name: `${label}-${id.slice(0, 8)}`,
  });
  return {
    id,
    workspaceId: created.workspace_id,
    token: await userToken(id, created.workspace_id),
  };
}

/** A new user who joined `admin`'s workspace with `role`. */
export async function invite(admin: User, role: string): Promise<User> {
  const id = crypto.randomUUID();
  await rpc(admin.token, "add_member", { user_id: id, role });
  await rpc(await userToken(id), "accept_invitation", { workspace_id: admin.workspaceId });
  return { id, workspaceId: admin.workspaceId, token: await userToken(id, admin.workspaceId) };
}

/** Calls an Edge Function through the gateway, as functions-js does (POST, JSON body). */
export function invoke(
  name: string,
  token: string | null,
  body: Record<string, unknown> | null = {},
  headers: Record<string, string> = {},
): Promise<Response> {
  const all: Record<string, string> = { apikey: ANON_KEY, ...headers };
  if (token) all.authorization = `Bearer ${token}`;
  if (body !== null) all["content-type"] = "application/json";
  return fetch(`${URL_}/functions/v1/${name}`, {
    method: body === null ? "GET" : "POST",
    headers: all,
    body: body === null ? undefined : JSON.stringify(body),
  });
}

export function base64(text: string): string {
  return btoa(text);
}
