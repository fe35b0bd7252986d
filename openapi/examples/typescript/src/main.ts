// A small integration on the TypeScript client generated from openapi/openapi.json
// (openapi-typescript + openapi-fetch), compiled with `tsc --strict`: it records a customer
// visit the way a CRM frontend would, asks the engine for a draft assessment from the record,
// reads the event feed with typed events, shows a form's error shape, and verifies a webhook
// delivery with the `standardwebhooks` package.
//
//   BUYERPATH_URL=http://127.0.0.1:8080 BUYERPATH_TOKEN=... npm start
//
// The service must allow webhooks to this machine (BUYERPATH_WEBHOOK_ALLOW_PRIVATE=true).

import http from "node:http";
import type { AddressInfo } from "node:net";
import createClient from "openapi-fetch";
import { Webhook } from "standardwebhooks";
import type { components, paths } from "./schema.js";

type Event = components["schemas"]["Event"];

const url = process.env.BUYERPATH_URL ?? "http://127.0.0.1:8080";
const token = process.env.BUYERPATH_TOKEN;
if (!token) {
  throw new Error("set BUYERPATH_TOKEN (an admin token: `buyerpath token --role admin`)");
}
const client = createClient<paths>({
  baseUrl: url,
  headers: { Authorization: `Bearer ${token}`, "Accept-Language": "en" },
});

function check(ok: boolean, what: string): void {
  if (!ok) {
    throw new Error(`check failed: ${what}`);
  }
}

/** Waits for one POST on a local port and answers 204. */
function receiver(): Promise<{ port: number; delivery: Promise<{ body: string; headers: Record<string, string> }> }> {
  return new Promise((ready) => {
    let deliver: (d: { body: string; headers: Record<string, string> }) => void = () => {};
    const delivery = new Promise<{ body: string; headers: Record<string, string> }>((r) => (deliver = r));
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (typeof v === "string") headers[k] = v;
        }
        res.writeHead(204).end();
        server.close();
        deliver({ body: Buffer.concat(chunks).toString("utf8"), headers });
      });
    });
    server.listen(0, "127.0.0.1", () => {
      ready({ port: (server.address() as AddressInfo).port, delivery });
    });
  });
}

async function main(): Promise<void> {
  const hook = await receiver();
  const endpoint = await client.POST("/v1/webhook-endpoints", {
    body: { url: `http://127.0.0.1:${hook.port}/hook`, event_types: ["account.created"] },
  });
  if (!endpoint.data) throw new Error(`webhook endpoint: ${JSON.stringify(endpoint.error)}`);
  const secret = endpoint.data.secret;

  const account = await client.POST("/v1/accounts", {
    body: { name: "华东电力设计院", industry: "energy", tags: ["example"] },
  });
  if (!account.data) throw new Error(`account: ${JSON.stringify(account.error)}`);
  const account_id = account.data.id;
  check(account.response.headers.get("ETag") === `"${account.data.version}"`, "ETag names the version");

  const contact = await client.POST("/v1/accounts/{account_id}/contacts", {
    params: { path: { account_id } },
    body: { name: "王建国", title: "信息中心主任", department: "it", key_person: true },
  });
  if (!contact.data) throw new Error(`contact: ${JSON.stringify(contact.error)}`);
  const head = contact.data.id;

  const opportunity = await client.POST("/v1/accounts/{account_id}/opportunities", {
    params: { path: { account_id } },
    body: { name: "数据中心网络改造" },
  });
  if (!opportunity.data) throw new Error(`opportunity: ${JSON.stringify(opportunity.error)}`);
  const opportunity_id = opportunity.data.id;

  const days = (n: number) => new Date(Date.now() - n * 86_400_000).toISOString();
  for (const [when, signal, evidence] of [
    [days(9), "S1.B03", "上月核心交换机宕机"],
    [days(2), "S1.B03", "核心设备已过保"],
  ] as const) {
    const activity = await client.POST("/v1/accounts/{account_id}/activities", {
      params: { path: { account_id } },
      body: {
        kind: "visit",
        occurred_at: when,
        subject: "拜访信息中心",
        opportunity_id,
        participants: [head],
        key_actions: ["S1.A03"],
        observations: [{ signal, evidence }],
      },
    });
    if (!activity.data) throw new Error(`activity: ${JSON.stringify(activity.error)}`);
  }

  const draft = await client.GET("/v1/opportunities/{opportunity_id}/stage-assessments/draft", {
    params: { path: { opportunity_id }, query: { lang: "en" } },
  });
  if (!draft.data) throw new Error(`draft: ${JSON.stringify(draft.error)}`);
  check(draft.data.basis === "record", "the draft judges from the record");
  check(draft.data.opportunity_stage === "S1", "the stage is a StageCode");

  // The feed: each item is typed by its `type`.
  const feed = await client.GET("/v1/events", {
    params: { query: { types: "account.*,contact.*,activity.*", limit: 200 } },
  });
  if (!feed.data) throw new Error(`events: ${JSON.stringify(feed.error)}`);
  const values = (e: Event): unknown[] => Object.values(e.data);
  const mine = feed.data.items.filter((e) => values(e).includes(account_id));
  let activities = 0;
  for (const e of mine) {
    switch (e.type) {
      case "account.created":
        check(e.data.object.name === "华东电力设计院", "the account as GET returns it");
        break;
      case "contact.created":
        check(e.data.object.department === "it", "the contact as GET returns it");
        break;
      case "activity.created":
        activities += 1;
        check(e.data.object.participants.length === 1, "the activity as GET returns it");
        break;
      default:
        break;
    }
  }
  check(activities === 2, `two activity.created events (saw ${activities})`);

  // A form's error: every bad field at once, with a code and a message in the asked language.
  const bad = await client.POST("/v1/accounts/{account_id}/contacts", {
    params: { path: { account_id } },
    // @ts-expect-error: a value the contract does not allow, as a careless form would send it
    body: { name: " ", email: "nobody", attitude: "friendly" },
  });
  check(bad.response.status === 422, "a bad form is 422");
  const fields = (bad.error?.errors ?? []).map((e) => `${e.field}:${e.code}`).sort();
  check(
    JSON.stringify(fields) === JSON.stringify(["/attitude:unknown_value", "/email:invalid_format", "/name:required"]),
    `every field named (${fields.join(", ")})`,
  );

  // The webhook: signed as Standard Webhooks, its body the event as the feed lists it.
  const got = await Promise.race([
    hook.delivery,
    new Promise<never>((_, fail) => setTimeout(() => fail(new Error("no webhook delivery in 30 s")), 30_000)),
  ]);
  const event = new Webhook(secret).verify(got.body, got.headers) as Event;
  check(event.type === "account.created", "the delivered type");
  check(event.id === got.headers["webhook-id"], "the body's id is the webhook-id");
  if (event.type === "account.created") {
    check(event.data.object.id === account_id, "the delivered account");
  }
  console.log(`typescript example: ok (account ${account_id}, ${mine.length} events, webhook verified)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
