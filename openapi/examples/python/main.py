"""A small integration on the Python client generated from openapi/openapi.json
(openapi-python-client, config.yml): it records a customer visit the way a CRM sync would, asks
the engine for a draft assessment from the record, reads the event feed (typed events), shows a
form's error shape, and verifies a webhook delivery with the `standardwebhooks` package.

    BUYERPATH_URL=http://127.0.0.1:8080 BUYERPATH_TOKEN=... python main.py

The client package is generated first (see .ci/clients); the service must allow webhooks to this
machine (BUYERPATH_WEBHOOK_ALLOW_PRIVATE=true).
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks import Webhook

from buyerpath_client import AuthenticatedClient
from buyerpath_client.api.accounts import create_account
from buyerpath_client.api.activities import create_activity
from buyerpath_client.api.assessments import get_stage_assessment_draft
from buyerpath_client.api.contacts import create_contact
from buyerpath_client.api.events import list_event_types, list_events
from buyerpath_client.api.opportunities import create_opportunity
from buyerpath_client.api.webhooks import create_webhook_endpoint
from buyerpath_client.models import (
    AccountCreatedEvent,
    ActivityCreatedEvent,
    ActivityInput,
    ActivityKind,
    ContactCreatedEvent,
    CreateAccount,
    CreateContact,
    CreateEndpoint,
    CreateOpportunity,
    Department,
    EventTypePattern,
    Observation,
    Problem,
)
from buyerpath_client.types import Response


def need(response: Response, what: str):
    """The parsed body of a 2xx response, or the problem it answered with."""
    if response.status_code >= 300 or response.parsed is None or isinstance(response.parsed, Problem):
        raise SystemExit(f"{what}: {response.status_code} {response.content!r}")
    return response.parsed


def check(ok: bool, what: str) -> None:
    if not ok:
        raise SystemExit(f"check failed: {what}")


class Hook(BaseHTTPRequestHandler):
    received: "queue.Queue[tuple[bytes, dict[str, str]]]" = queue.Queue()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        Hook.received.put((body, {k.lower(): v for k, v in self.headers.items()}))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    url = os.environ.get("BUYERPATH_URL", "http://127.0.0.1:8080")
    token = os.environ["BUYERPATH_TOKEN"]
    client = AuthenticatedClient(base_url=url, token=token, headers={"Accept-Language": "en"})

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    endpoint = need(
        create_webhook_endpoint.sync_detailed(
            client=client,
            body=CreateEndpoint(
                url=f"http://127.0.0.1:{port}/hook", event_types=[EventTypePattern.ACCOUNT_CREATED]
            ),
        ),
        "webhook endpoint",
    )

    account = need(
        create_account.sync_detailed(client=client, body=CreateAccount(name="华东电力设计院", industry="energy")),
        "account",
    )
    head = need(
        create_contact.sync_detailed(
            account.id,
            client=client,
            body=CreateContact(name="王建国", title="信息中心主任", department=Department.IT, key_person=True),
        ),
        "contact",
    )
    opportunity = need(
        create_opportunity.sync_detailed(account.id, client=client, body=CreateOpportunity(name="数据中心网络改造")),
        "opportunity",
    )
    now = dt.datetime.now(dt.timezone.utc)
    for days, evidence in [(9, "上月核心交换机宕机"), (2, "核心设备已过保")]:
        need(
            create_activity.sync_detailed(
                account.id,
                client=client,
                body=ActivityInput(
                    kind=ActivityKind.VISIT,
                    occurred_at=now - dt.timedelta(days=days),
                    subject="拜访信息中心",
                    opportunity_id=opportunity.id,
                    participants=[head.id],
                    key_actions=["S1.A03"],
                    observations=[Observation(signal="S1.B03", evidence=evidence)],
                ),
            ),
            "activity",
        )

    draft = need(get_stage_assessment_draft.sync_detailed(opportunity.id, client=client), "draft")
    check(draft.basis.value == "record", "the draft judges from the record")

    page = need(list_events.sync_detailed(client=client, types="account.*,contact.*,activity.*", limit=200), "events")
    mine = [e for e in page.items if str(account.id) in {str(v) for v in e.data.to_dict().values()}]
    kinds = {type(e).__name__ for e in mine}
    check({"AccountCreatedEvent", "ContactCreatedEvent", "ActivityCreatedEvent"} <= kinds, f"typed events ({kinds})")
    for e in mine:
        if isinstance(e, AccountCreatedEvent):
            check(e.data.object_.name == "华东电力设计院", "the account as GET returns it")
        elif isinstance(e, ContactCreatedEvent):
            check(e.data.object_.department == Department.IT, "the contact as GET returns it")
        elif isinstance(e, ActivityCreatedEvent):
            check(len(e.data.object_.participants) == 1, "the activity as GET returns it")
    catalogue = need(list_event_types.sync_detailed(client=client), "event types")
    check(any(t.schema == "AccountCreatedEvent" for t in catalogue.items), "the catalogue names schemas")

    # A form's error: every bad field at once, each with a code and an English message.
    bad = create_contact.sync_detailed(
        account.id, client=client, body=CreateContact(name=" ", email="nobody", key_person=True)
    )
    check(bad.status_code == 422 and isinstance(bad.parsed, Problem), "a bad form is 422")
    fields = sorted(f"{e.field}:{e.code.value}" for e in bad.parsed.errors)
    check(fields == ["/email:invalid_format", "/name:required"], f"every field named ({fields})")

    body, headers = Hook.received.get(timeout=30)
    event = Webhook(endpoint.secret).verify(body, headers)
    check(event["type"] == "account.created", "the delivered type")
    check(event["id"] == headers["webhook-id"], "the body's id is the webhook-id")
    check(event["data"]["object"]["id"] == str(account.id), "the delivered account")
    server.shutdown()
    print(f"python example: ok (account {account.id}, {len(mine)} events, webhook verified)")


if __name__ == "__main__":
    main()
