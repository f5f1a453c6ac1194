// sign-artifact: a signed download URL for one of the caller's artifacts (api.sign_artifact),
// in Supabase Storage's shape: signedUrl = encodeURI(SUPABASE_URL + "/storage/v1" +
// signedURL), as storage-js builds it. {id, expires_in (seconds, default 3600)}. Never cached.
import { badRequest, callApi, edgeFunction, env, integer } from "../_shared/http.ts";

interface Signed {
  signedURL: string;
  path: string;
  bucket: string;
  expires_at: string;
  artifact: Record<string, unknown>;
}

export default edgeFunction(
  { name: "sign-artifact", cacheControl: "no-store" },
  async (req, args) => {
    const id = integer(args, "id");
    if (id === undefined) throw badRequest("id", "id (the artifact's id) is required");
    const signed = (await callApi(req, "sign_artifact", {
      id,
      expires_in: integer(args, "expires_in"),
    })) as Signed;
    return {
      signedUrl: encodeURI(`${env().url}/storage/v1${signed.signedURL}`),
      path: signed.path,
      bucket: signed.bucket,
      expires_at: signed.expires_at,
      artifact: signed.artifact,
    };
  },
);
