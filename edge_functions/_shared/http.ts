// What every Collab Edge Function shares (house style 14: a function verifies nothing itself
// but calls one `api` function as the caller, and shapes the answer):
// - CORS as Supabase's `corsHeaders`, on every answer, errors included; preflights answered;
// - the caller's Authorization forwarded to PostgREST, so RLS and the api roles decide (never
//   the service key for a user's request);
// - one error shape, PostgREST's four keys {code, message, details, hint}, with the status of
//   the api error and Retry-After on 429;
// - ETag (sha-256 of the body) and Cache-Control, 304 to a matching If-None-Match;
// - the per-caller quota: api.function_quota(name) takes one token of the SQL token bucket
//   (configured with api.configure_rate_limit('functions', 'user', ...)), 429 when over.

export const corsHeaders: Record<string, string> = {
  "Access-Control-Allow-Origin": "*",
  "Access-Control-Allow-Headers":
    "authorization, x-client-info, apikey, content-type, x-retry-count, if-none-match",
  "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
  "Access-Control-Expose-Headers": "etag, retry-after",
};

/** An error of an api call (or of the function), in PostgREST's shape. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { code: string; message: string; details: string | null; hint: string | null },
    readonly retryAfter: string | null = null,
  ) {
    super(body.message);
  }
}

export function badRequest(field: string, message: string): ApiError {
  return new ApiError(400, {
    code: "PT400",
    message,
    details: JSON.stringify({ reason: "invalid_input", field }),
    hint: null,
  });
}

export interface Env {
  url: string;
  anonKey: string;
}

export function env(): Env {
  const url = Deno.env.get("SUPABASE_URL");
  const anonKey = Deno.env.get("SUPABASE_ANON_KEY");
  if (!url || !anonKey) {
    throw new Error("SUPABASE_URL and SUPABASE_ANON_KEY must be set");
  }
  return { url: url.replace(/\/+$/, ""), anonKey };
}

type Args = Record<string, string | number | boolean | null | undefined>;

/** Calls api.<fn> through PostgREST as the caller: GET for read-only (stable) functions. */
export async function callApi(
  req: Request,
  fn: string,
  args: Args,
  method: "GET" | "POST" = "GET",
): Promise<unknown> {
  const { url, anonKey } = env();
  const headers: Record<string, string> = {
    apikey: anonKey,
    authorization: req.headers.get("authorization") ?? `Bearer ${anonKey}`,
    "accept-profile": "api",
    "content-profile": "api",
    accept: "application/json",
  };
  const defined = Object.entries(args).filter(([, v]) => v !== undefined && v !== null);
  let target = `${url}/rest/v1/rpc/${fn}`;
  const init: RequestInit = { method, headers };
  if (method === "GET") {
    const query = new URLSearchParams(defined.map(([k, v]) => [k, String(v)]));
    if (defined.length) target += `?${query}`;
  } else {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(Object.fromEntries(defined));
  }
  const answer = await fetch(target, init);
  const text = await answer.text();
  if (!answer.ok) {
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      body = { code: `PT${answer.status}`, message: text, details: null, hint: null };
    }
    throw new ApiError(answer.status, {
      code: String(body.code ?? `PT${answer.status}`),
      message: String(body.message ?? ""),
      details: body.details ?? null,
      hint: body.hint ?? null,
    }, answer.headers.get("retry-after"));
  }
  return text ? JSON.parse(text) : null;
}

/** The request's parameters: the query string, then a JSON object body (functions-js POSTs). */
export async function params(req: Request): Promise<Args> {
  const out: Args = Object.fromEntries(new URL(req.url).searchParams);
  if (req.method === "POST" || req.method === "PUT") {
    const text = await req.text();
    if (text.trim()) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw badRequest("body", "the body must be a JSON object");
      }
      if (typeof body !== "object" || body === null || Array.isArray(body)) {
        throw badRequest("body", "the body must be a JSON object");
      }
      Object.assign(out, body);
    }
  }
  return out;
}

async function etagOf(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  const hex = Array.from(
    new Uint8Array(digest).slice(0, 16),
    (b) => b.toString(16).padStart(2, "0"),
  );
  return `"${hex.join("")}"`;
}

function errorResponse(error: unknown): Response {
  const failure = error instanceof ApiError ? error : new ApiError(500, {
    code: "PT500",
    message: error instanceof Error ? error.message : String(error),
    details: JSON.stringify({ reason: "function_error" }),
    hint: null,
  });
  const headers: Record<string, string> = { ...corsHeaders, "content-type": "application/json" };
  if (failure.status === 429) headers["retry-after"] = failure.retryAfter ?? "1";
  return new Response(JSON.stringify(failure.body), { status: failure.status, headers });
}

export interface Options {
  /** The function's name: its quota bucket and the first segment of its path. */
  name: string;
  /** Cache-Control of a successful answer. */
  cacheControl: string;
  /** What the ETag covers (default: the whole answer); leave out what only the clock moves. */
  etagOf?: (answer: unknown) => unknown;
}

/** A Collab Edge Function: `work` computes the JSON answer from the request's parameters. */
export function edgeFunction(
  options: Options,
  work: (req: Request, args: Args) => Promise<unknown>,
): { fetch: (req: Request) => Promise<Response> } {
  return {
    async fetch(req: Request): Promise<Response> {
      if (req.method === "OPTIONS") {
        return new Response("ok", { headers: corsHeaders });
      }
      if (req.method !== "GET" && req.method !== "POST") {
        return errorResponse(
          new ApiError(405, {
            code: "PT405",
            message: `${req.method} is not allowed: use GET or POST`,
            details: JSON.stringify({ reason: "method_not_allowed" }),
            hint: null,
          }),
        );
      }
      try {
        const args = await params(req);
        // The quota and the work at once: both only read or take a token, so a refused
        // quota simply discards the answer.
        const [, answer] = await Promise.all([
          callApi(req, "function_quota", { name: options.name }, "POST"),
          work(req, args),
        ]);
        const text = JSON.stringify(answer);
        const etag = await etagOf(options.etagOf ? JSON.stringify(options.etagOf(answer)) : text);
        const headers: Record<string, string> = {
          ...corsHeaders,
          "content-type": "application/json",
          "cache-control": options.cacheControl,
          etag,
        };
        const match = req.headers.get("if-none-match");
        if (match && match.split(",").some((t) => t.trim().replace(/^W\//, "") === etag)) {
          return new Response(null, { status: 304, headers });
        }
        return new Response(text, { status: 200, headers });
      } catch (error) {
        return errorResponse(error);
      }
    },
  };
}

/** An integer parameter (or undefined), else PT400 naming it. */
export function integer(args: Args, name: string): number | undefined {
  const value = args[name];
  if (value === undefined || value === null || value === "") return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw badRequest(name, `${name} must be an integer`);
  return n;
}

/** A text parameter (or undefined). */
export function text(args: Args, name: string): string | undefined {
  const value = args[name];
  if (value === undefined || value === null || value === "") return undefined;
  return String(value);
}
