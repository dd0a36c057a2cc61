/**
 * A typed client for the technology exchange API.
 *
 * The types in `schema.d.ts` are generated from the repository's `openapi.yaml`
 * (`npm run generate`); every path, parameter, body and response is checked by the
 * compiler against them.
 */
import createFetchClient, { type Client, type ClientOptions, mergeHeaders, type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, operations, paths } from "./schema.js";

/** Every named schema of the API: `Schemas["OfferRead"]`, `Schemas["Problem"]`, … */
export type Schemas = components["schemas"];
/** The RFC 9457 problem every error response carries. */
export type Problem = Schemas["Problem"];
/**
 * Responses are typed as their JSON form (`application/json`, `application/problem+json`); the CSV,
 * iCalendar and XLSX forms some operations offer are read with `parseAs: "text"` or `"blob"`.
 */
export type JsonMedia = `application/${string}json`;
export type ExchangeClient = Client<paths, JsonMedia>;

export interface ExchangeClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The server's origin, e.g. `https://api.example.vn` (paths start with `/api/v1`). */
  baseUrl: string;
  /** A bearer access token, or a function returning the current one (called for every request). */
  token?: string | (() => string | undefined);
  /** Sent as `Accept-Language`: labels, reasons and match explanations come in this language. */
  language?: string;
}

/** A client whose methods (`GET`, `POST`, …) take the API's paths and are typed by them. */
export function createClient(options: ExchangeClientOptions): ExchangeClient {
  const { baseUrl, token, language, headers, ...rest } = options;
  const client = createFetchClient<paths, JsonMedia>({
    baseUrl: baseUrl.replace(/\/+$/, ""),
    headers: mergeHeaders(language ? { "Accept-Language": language } : undefined, headers),
    ...rest,
  });
  if (token !== undefined) {
    client.use(bearer(token));
  }
  return client;
}

/** Adds `Authorization: Bearer …` to requests that carry no Authorization of their own. */
export function bearer(token: string | (() => string | undefined)): Middleware {
  return {
    onRequest({ request }) {
      const value = typeof token === "function" ? token() : token;
      if (value && !request.headers.has("Authorization")) {
        request.headers.set("Authorization", `Bearer ${value}`);
      }
      return request;
    },
  };
}

/** An error response: the HTTP status and the problem document the server sent. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | undefined;

  constructor(url: string, status: number, problem: unknown) {
    const known = isProblem(problem) ? problem : undefined;
    const fields = known?.errors?.map((e) => `${e.loc.join(".")}: ${e.msg}`).join("; ");
    const reason = known ? ` ${known.code}: ${known.detail ?? known.title}${fields ? ` (${fields})` : ""}` : "";
    super(`${url} → ${status}${reason}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = known;
  }
}

/**
 * The body of a successful response, or an `ApiError` thrown with the problem document.
 *
 *     const offer = await unwrap(api.GET("/api/v1/offers/{offer_id}", { params: { path: { offer_id } } }));
 */
export async function unwrap<R extends { data?: unknown; error?: unknown; response: Response }>(
  pending: Promise<R> | R,
): Promise<Exclude<R["data"], undefined>> {
  const { data, error, response } = await pending;
  if (!response.ok || error !== undefined) {
    throw new ApiError(response.url, response.status, error);
  }
  return data as Exclude<R["data"], undefined>;
}

function isProblem(value: unknown): value is Problem {
  return typeof value === "object" && value !== null && "status" in value && "code" in value && "title" in value;
}
