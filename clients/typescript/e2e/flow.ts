/**
 * The whole exchange, as a web client drives it, against a running server:
 *
 *   market — an enterprise and an institute register; the institute offers a technology and the
 *   enterprise states a need, both published by a moderator; search finds the offer with and without
 *   Vietnamese diacritics; matching ranks it for the need.
 *
 *   event — the moderator's department runs a matchmaking session: both register as participants,
 *   the enterprise requests a meeting, the institute accepts, the organiser computes and publishes
 *   the schedule, and the enterprise downloads its agenda as iCalendar.
 *
 *   deal — the enterprise expresses interest in the offer, the institute accepts, they exchange
 *   messages, record a deal from the interest, sign it, and it counts in the statistics (JSON, CSV).
 *
 * Every step checks what it received and throws naming the step otherwise.
 *
 *   TECHEX_BASE_URL=http://127.0.0.1:8000 TECHEX_MODERATOR_EMAIL=… TECHEX_MODERATOR_PASSWORD=… \
 *     npm run build && npm run e2e
 */
import { createClient, type ExchangeClient, unwrap } from "../src/index.js";

const BASE_URL = process.env.TECHEX_BASE_URL ?? "http://127.0.0.1:8000";
const MODERATOR_EMAIL = required("TECHEX_MODERATOR_EMAIL");
const MODERATOR_PASSWORD = required("TECHEX_MODERATOR_PASSWORD");
const PASSWORD = "loc-nuoc-nhiem-asen-2026";
const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
const SEARCH_WAIT_MS = 30_000;

interface Party {
  api: ExchangeClient;
  organizationId: string;
  name: string;
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

class StepFailed extends Error {
  constructor(step: string, cause: unknown) {
    super(`step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "StepFailed";
  }
}

let passed = 0;

async function step<T>(name: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    const result = await run();
    passed += 1;
    console.log(`ok  ${name} (${Math.round(performance.now() - started)} ms)`);
    return result;
  } catch (error) {
    throw new StepFailed(name, error);
  }
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(message);
}

function equal<T>(actual: T, expected: T, what: string): void {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** The body of a response that must have `status`; an ApiError with the problem otherwise. */
async function ok<R extends { data?: unknown; error?: unknown; response: Response }>(
  pending: Promise<R>,
  status: number,
): Promise<Exclude<R["data"], undefined>> {
  const result = await pending;
  const body = await unwrap(result);
  equal(result.response.status, status, `${result.response.url} status`);
  return body;
}

/** The body and `ETag` of a response that must have `status`: the ETag goes in `If-Match` to change it. */
async function tagged<R extends { data?: unknown; error?: unknown; response: Response }>(
  pending: Promise<R>,
  status: number,
): Promise<[Exclude<R["data"], undefined>, string]> {
  const result = await pending;
  const body = await ok(Promise.resolve(result), status);
  const tag = result.response.headers.get("ETag");
  check(tag, `${result.response.url} sent no ETag`);
  return [body, tag];
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + SEARCH_WAIT_MS;
  for (;;) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${SEARCH_WAIT_MS / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The day `days` after today, as YYYY-MM-DD (UTC, the calendar the server's statistics use). */
function dayAhead(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

const anonymous = createClient({ baseUrl: BASE_URL, language: "vi" });

async function register(kind: "enterprise" | "institute", name: string): Promise<Party> {
  const registration = await ok(
    anonymous.POST("/api/v1/auth/register", {
      body: {
        email: `${kind}-${RUN}@example.vn`,
        password: PASSWORD,
        full_name: "Nguyễn Văn An",
        organization: { name, kind, country: "VN", province: "Hải Phòng", is_network: false },
      },
    }),
    201,
  );
  equal(registration.organization.name, name, "registered organisation");
  equal(registration.organization.kind, kind, "registered organisation kind");
  equal(registration.tokens.token_type, "bearer", "token type");
  const token = registration.tokens.access_token;
  return { api: createClient({ baseUrl: BASE_URL, token, language: "vi" }), organizationId: registration.organization.id, name };
}

async function main(): Promise<void> {
  await step("server is alive", async () => {
    equal((await ok(anonymous.GET("/healthz"), 200)).status, "ok", "liveness");
  });

  // ── market ────────────────────────────────────────────────────────────────────────────────
  const institute = await step("register an institute", () =>
    register("institute", `Viện Công nghệ Môi trường ${RUN}`),
  );
  const enterprise = await step("register an enterprise", () =>
    register("enterprise", `Công ty Thủy sản Cát Hải ${RUN}`),
  );

  const moderator = await step("moderator signs in", async () => {
    const tokens = await ok(
      anonymous.POST("/api/v1/auth/token", {
        body: { username: MODERATOR_EMAIL, password: MODERATOR_PASSWORD, scope: "" },
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
      }),
      200,
    );
    const api = createClient({ baseUrl: BASE_URL, token: tokens.access_token, language: "vi" });
    const me = await ok(api.GET("/api/v1/auth/me"), 200);
    equal(me.account.role, "moderator", "signed-in role");
    return { api, organizationId: me.organization.id, name: me.organization.name } satisfies Party;
  });

  const [offer, offerTag] = await step("institute submits an offer", async () => {
    const [created, tag] = await tagged(
      institute.api.POST("/api/v1/offers", {
        body: {
          language: "vi",
          title: `Hệ thống xử lý nước thải thủy sản bằng màng sinh học ${RUN}`,
          summary: "Bể sinh học màng MBBR xử lý nước thải chế biến thủy sản đạt cột A, 500 m³/ngày.",
          description: "Giá thể di động, vận hành tự động; đã lắp đặt tại ba nhà máy ở Hải Phòng.",
          translations: {
            en: {
              title: "Moving-bed biofilm treatment of seafood-processing wastewater",
              summary: "MBBR plant treating seafood effluent to class A, 500 m³ a day.",
              description: "Moving carriers, automatic operation; installed in three plants in Hai Phong.",
            },
          },
          field: "environment",
          concepts: ["wastewater-treatment", "biological-treatment"],
          transfer_types: ["turnkey_equipment", "licence"],
          trl: 8,
          ip_status: "utility_solution_granted",
          price_min: "1000000000",
          price_max: "3000000000",
          visibility: "public",
          currency: "VND",
          support_included: true,
          proposed_for_city: false,
        },
      }),
      201,
    );
    equal(created.status, "draft", "new offer status");
    const submitted = await tagged(
      institute.api.POST("/api/v1/offers/{offer_id}/submit", {
        params: { path: { offer_id: created.id }, header: { "if-match": tag } },
      }),
      200,
    );
    equal(submitted[0].status, "submitted", "submitted offer status");
    return submitted;
  });

  const [demand, demandTag] = await step("enterprise submits a demand", async () => {
    const [created, tag] = await tagged(
      enterprise.api.POST("/api/v1/demands", {
        body: {
          language: "vi",
          title: `Cần công nghệ xử lý nước thải chế biến thủy sản ${RUN}`,
          summary: "Nhà máy chế biến thủy sản 500 m³/ngày cần hệ thống xử lý nước thải đạt cột A.",
          description: "Mặt bằng hạn chế, cần vận hành đơn giản.",
          field: "environment",
          concepts: ["wastewater-treatment"],
          transfer_types: ["turnkey_equipment"],
          min_trl: 6,
          budget_min: "2000000000",
          budget_max: "5000000000",
          visibility: "public",
          currency: "VND",
          co_development: false,
        },
      }),
      201,
    );
    const submitted = await tagged(
      enterprise.api.POST("/api/v1/demands/{demand_id}/submit", {
        params: { path: { demand_id: created.id }, header: { "if-match": tag } },
      }),
      200,
    );
    equal(submitted[0].status, "submitted", "submitted demand status");
    return submitted;
  });

  await step("moderator publishes both", async () => {
    const publishedOffer = await ok(
      moderator.api.POST("/api/v1/offers/{offer_id}/publish", {
        params: { path: { offer_id: offer.id }, header: { "if-match": offerTag } },
      }),
      200,
    );
    equal(publishedOffer.status, "published", "offer status");
    check(publishedOffer.published_at, "a published offer has published_at");
    const publishedDemand = await ok(
      moderator.api.POST("/api/v1/demands/{demand_id}/publish", {
        params: { path: { demand_id: demand.id }, header: { "if-match": demandTag } },
      }),
      200,
    );
    equal(publishedDemand.status, "published", "demand status");
  });

  // Only the institute's listings, so that a server holding other data answers the same.
  const search = (q: string) =>
    ok(
      anonymous.GET("/api/v1/search/offers", {
        params: { query: { q, organization_id: [institute.organizationId], field: ["environment"] } },
      }),
      200,
    );

  await step("search finds the offer with diacritics", async () => {
    const hit = await eventually("the published offer in search", async () =>
      (await search("màng sinh học")).items.find((h) => h.id === offer.id),
    );
    equal(hit.document.reference, offer.reference, "hit reference");
    equal(hit.document.kind, "offer", "hit kind");
  });

  await step("search finds it without diacritics, and not for other words", async () => {
    const folded = await search("mang sinh hoc");
    check(
      folded.items.some((h) => h.id === offer.id),
      `"mang sinh hoc" did not find ${offer.reference}: ${folded.items.map((h) => h.document.title).join(" | ")}`,
    );
    check(folded.total >= 1, "total counts the hits");
    const unrelated = await search("điện mặt trời áp mái");
    equal(unrelated.total, 0, "hits for an unrelated query");
  });

  await step("matching ranks the offer for the demand, with reasons", async () => {
    const matches = await ok(
      enterprise.api.GET("/api/v1/demands/{demand_id}/matches", {
        params: { path: { demand_id: demand.id } },
        headers: { "Accept-Language": "en" },
      }),
      200,
    );
    equal(matches.listing_id, demand.id, "matched listing");
    equal(matches.language, "en", "explanation language");
    const match = matches.items.find((m) => m.candidate.id === offer.id);
    check(match, `the offer is not among ${matches.items.length} matches`);
    check(match.score > 0 && match.score <= 1, `score ${match.score} out of (0, 1]`);
    check(match.reasons.length > 0, "a match explains itself");
    const scores = matches.items.map((m) => m.score);
    check(
      scores.every((score, i) => i === 0 || score <= (scores[i - 1] ?? Infinity)),
      "matches come best first",
    );
  });

  // ── event ─────────────────────────────────────────────────────────────────────────────────
  const day = dayAhead(30);
  const event = await step("moderator's department opens a matchmaking event", async () => {
    const created = await ok(
      moderator.api.POST("/api/v1/events", {
        body: {
          name: `Kết nối cung cầu công nghệ môi trường ${RUN}`,
          kind: "matchmaking",
          organizer_organization_id: moderator.organizationId,
          field: "environment",
          venue: "Hải Phòng",
          timezone: "Asia/Ho_Chi_Minh",
          request_mode: "opt_in",
          request_expiry_hours: 72,
          max_requests_per_participant: 20,
          exclusive: false,
          sessions: [
            {
              name: "Sáng",
              starts_at: `${day}T08:30:00+07:00`,
              ends_at: `${day}T10:30:00+07:00`,
              meeting_minutes: 20,
              tables: 2,
              breaks: [{ starts_at: `${day}T09:30:00+07:00`, ends_at: `${day}T09:50:00+07:00` }],
            },
          ],
        },
      }),
      201,
    );
    equal(created.status, "draft", "new event status");
    equal(created.sessions.length, 1, "sessions");
    const opened = await ok(
      moderator.api.POST("/api/v1/events/{event_id}/status", {
        params: { path: { event_id: created.id } },
        body: { status: "registration_open" },
      }),
      200,
    );
    equal(opened.status, "registration_open", "event status");
    return opened;
  });

  const eventPath = { event_id: event.id };
  const [supplier, seeker] = await step("both register as participants, booking opens", async () => {
    const supplier = await ok(
      institute.api.POST("/api/v1/events/{event_id}/participants", {
        params: { path: eventPath },
        body: {
          organization_id: institute.organizationId,
          representative: "TS. Trần Thị Bình",
          role: "supplier",
          listing_ids: [offer.id],
          languages: ["vi", "en"],
        },
      }),
      201,
    );
    const seeker = await ok(
      enterprise.api.POST("/api/v1/events/{event_id}/participants", {
        params: { path: eventPath },
        body: { organization_id: enterprise.organizationId, representative: "Nguyễn Văn An", role: "seeker" },
      }),
      201,
    );
    const listed = await ok(moderator.api.GET("/api/v1/events/{event_id}/participants", { params: { path: eventPath } }), 200);
    equal(listed.items.length, 2, "participants");
    equal(listed.total, 2, "participants total");
    const booking = await ok(
      moderator.api.POST("/api/v1/events/{event_id}/status", {
        params: { path: eventPath },
        body: { status: "booking_open" },
      }),
      200,
    );
    equal(booking.status, "booking_open", "event status");
    return [supplier, seeker] as const;
  });

  const meeting = await step("enterprise requests a meeting, institute accepts", async () => {
    const requested = await ok(
      enterprise.api.POST("/api/v1/events/{event_id}/requests", {
        params: { path: eventPath },
        body: { requester_id: seeker.id, recipient_id: supplier.id, message: "Xin gặp để trao đổi về MBBR." },
      }),
      201,
    );
    equal(requested.status, "pending", "request status");
    const accepted = await ok(
      institute.api.POST("/api/v1/events/{event_id}/requests/{request_id}/accept", {
        params: { path: { ...eventPath, request_id: requested.id } },
      }),
      200,
    );
    equal(accepted.status, "accepted", "request status");
    return accepted;
  });

  await step("organiser computes the schedule", async () => {
    const report = await ok(
      moderator.api.POST("/api/v1/events/{event_id}/schedule", {
        params: { path: eventPath },
        body: { time_limit: 5, seed: 0, deterministic: true, keep_published: true },
      }),
      200,
    );
    equal(report.meetings, 1, "meetings to place");
    equal(report.placed, 1, "meetings placed");
    equal(report.status, "draft", "schedule status");
  });

  await step("organiser publishes the schedule", async () => {
    const published = await ok(
      moderator.api.POST("/api/v1/events/{event_id}/schedule/publish", {
        params: { path: eventPath },
        body: { stage: "final", accept_unfair: false },
      }),
      200,
    );
    equal(published.status, "scheduled", "event status");
    equal(published.schedule_status, "final", "schedule status");
  });

  await step("enterprise reads its agenda, as JSON and iCalendar", async () => {
    const path = { ...eventPath, participant_id: seeker.id };
    const agenda = await ok(enterprise.api.GET("/api/v1/events/{event_id}/participants/{participant_id}/agenda", { params: { path } }), 200);
    equal(agenda.items.length, 1, "agenda items");
    const item = agenda.items[0];
    check(item, "one agenda item");
    equal(item.meeting_id, meeting.id, "agenda meeting");
    equal(item.counterpart_id, supplier.id, "counterpart");
    const ics = await ok(
      enterprise.api.GET("/api/v1/events/{event_id}/participants/{participant_id}/agenda", {
        params: { path, query: { format: "ics" } },
        parseAs: "text",
      }),
      200,
    );
    check(ics.startsWith("BEGIN:VCALENDAR"), `not iCalendar: ${ics.slice(0, 40)}`);
    equal(ics.match(/^BEGIN:VEVENT/gm)?.length ?? 0, 1, "VEVENTs");
    check(ics.includes(`UID:${meeting.id}@techex`), "the VEVENT's UID is the meeting's");
    const start = new Date(item.starts_at).toISOString().replace(/[-:]|\.\d{3}/g, "");
    check(ics.includes(start), `DTSTART ${start} (the agenda's start) is not in the calendar`);
  });

  // ── interest, deal, statistics ──────────────────────────────────────────────────────────
  const interest = await step("enterprise expresses interest in the offer", async () => {
    const created = await ok(
      enterprise.api.POST("/api/v1/interests", {
        body: { listing_id: offer.id, message: "Chúng tôi quan tâm, xin trao đổi thêm." },
      }),
      201,
    );
    equal(created.status, "pending", "new interest status");
    equal(created.from_organization_id, enterprise.organizationId, "interested organisation");
    return created;
  });

  await step("institute accepts the interest", async () => {
    const received = await ok(
      institute.api.GET("/api/v1/interests", { params: { query: { role: "received" } } }),
      200,
    );
    check(
      received.items.some((i) => i.id === interest.id),
      "the institute sees the interest among those it received",
    );
    const accepted = await ok(
      institute.api.POST("/api/v1/interests/{interest_id}/accept", {
        params: { path: { interest_id: interest.id } },
      }),
      200,
    );
    equal(accepted.status, "accepted", "interest status");
    equal(accepted.listing_owner_id, institute.organizationId, "listing owner");
  });

  await step("the two exchange messages", async () => {
    const path = { interest_id: interest.id };
    await ok(
      enterprise.api.POST("/api/v1/interests/{interest_id}/messages", {
        params: { path },
        body: { body: "Xin báo giá cho công suất 500 m³/ngày." },
      }),
      201,
    );
    const reply = await ok(
      institute.api.POST("/api/v1/interests/{interest_id}/messages", {
        params: { path },
        body: { body: "Đã gửi báo giá qua email." },
      }),
      201,
    );
    equal(reply.author_organization_id, institute.organizationId, "reply author");
    const thread = await ok(institute.api.GET("/api/v1/interests/{interest_id}/messages", { params: { path } }), 200);
    equal(
      JSON.stringify(thread.items.map((m) => m.body)),
      JSON.stringify(["Xin báo giá cho công suất 500 m³/ngày.", "Đã gửi báo giá qua email."]),
      "thread",
    );
  });

  const deal = await step("institute records a deal from the interest", async () => {
    // The interest names the listing, whose owner supplies and whose interested party buys.
    const created = await ok(
      institute.api.POST("/api/v1/deals", {
        body: {
          source: "interest",
          interest_id: interest.id,
          deal_type: "licence",
          value: "850000000",
          currency: "VND",
          stage: "negotiating",
          ip_transferred: true,
          confidential: false,
        },
      }),
      201,
    );
    equal(created.supplier_organization_id, institute.organizationId, "supplier");
    equal(created.buyer_organization_id, enterprise.organizationId, "buyer");
    equal(created.interest_id, interest.id, "deal's interest");
    equal(created.field, "environment", "deal field (from the offer)");
    equal(created.stage, "negotiating", "deal stage");
    return created;
  });

  await step("the deal is signed and both sides confirm it", async () => {
    const signedOn = dayAhead(0);
    const signed = await ok(
      enterprise.api.POST("/api/v1/deals/{deal_id}/stage", {
        params: { path: { deal_id: deal.id } },
        body: { stage: "signed", on: signedOn },
      }),
      200,
    );
    equal(signed.stage, "signed", "deal stage");
    equal(signed.signed_on, signedOn, "signed on");
    // The signature date moves the statistics, so the side that did not set it confirms it.
    equal(signed.confirmation, "unconfirmed", "confirmation after one side signs");
    const confirmed = await ok(
      institute.api.POST("/api/v1/deals/{deal_id}/confirm", { params: { path: { deal_id: deal.id } } }),
      200,
    );
    equal(confirmed.confirmation, "confirmed", "confirmation");
  });

  await step("the deal counts in the statistics (JSON)", async () => {
    const report = await ok(anonymous.GET("/api/v1/stats/indicators"), 200);
    const value = report.indicators.find((i) => i.code === "transaction_value");
    check(value, `no transaction_value among ${report.indicators.map((i) => i.code).join(", ")}`);
    check(Number(value.value ?? 0) >= 850_000_000, `transaction_value ${value.value} leaves out the 850 M deal`);
    const byField = await ok(anonymous.GET("/api/v1/stats/deals-by-field"), 200);
    const environment = byField.rows.find((r) => r.field === "environment");
    check(environment, "no environment row in deals by field");
    check(byField.total_deals >= 1, "deals by field counts the deal");
  });

  await step("statistics as CSV", async () => {
    const csv = await ok(
      anonymous.GET("/api/v1/stats/indicators", { params: { query: { format: "csv" } }, parseAs: "text" }),
      200,
    );
    const lines = csv.replace(/^\uFEFF/, "").split(/\r?\n/);
    check(lines[0]?.startsWith("code,label_vi,label_en"), `CSV header: ${lines[0]}`);
    check(
      lines.some((line) => line.startsWith("transaction_value,")),
      "the CSV has a transaction_value row",
    );
  });

  console.log(`flow passed: ${passed} steps against ${BASE_URL}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  if (error instanceof Error && error.cause instanceof Error && error.cause.stack) {
    console.error(error.cause.stack);
  }
  process.exitCode = 1;
});
