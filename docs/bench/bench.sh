#!/usr/bin/env bash
# Rerunnable benchmark: the release binary on its embedded PostgreSQL, on loopback only.
#   - GET /v1/pipeline over 100k opportunities (and with an owner filter);
#   - GET /v1/inventory over 100k survey records (500k inventory items);
#   - XLSX export and import of a survey with a 1,000-item inventory.
# Usage: bash docs/bench/bench.sh   (needs curl, psql and python3; about 3 minutes)
# Numbers go to stdout; docs/benchmarks.md records a run.
set -euo pipefail
cd "$(dirname "$0")/../.."

OPPS=${OPPS:-100000}
SURVEYS=${SURVEYS:-100000}
RUNS=${RUNS:-20}
PORT=${PORT:-18099}
DIR=$(mktemp -d /tmp/buyerpath-bench-XXXXXX)
[ "$(id -u)" -eq 0 ] && chmod 755 "$DIR"
B="http://127.0.0.1:$PORT"

cargo build --release --quiet
BUYERPATH_DATA_DIR="$DIR" BUYERPATH_BIND="127.0.0.1:$PORT" RUST_LOG=warn \
  ./target/release/buyerpath serve > "$DIR/serve.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 60); do curl -fs "$B/readyz" >/dev/null 2>&1 && break; sleep 0.5; done
TOKEN=$(grep -A1 'admin token' "$DIR/serve.log" | tail -1)
TENANT=$(cat "$DIR/default-tenant")
H="Authorization: Bearer $TOKEN"
PSQL=(psql -q -h "$DIR/postgres" -U postgres -d buyerpath -v ON_ERROR_STOP=1)

echo "== seeding $OPPS opportunities over 1,000 accounts, $SURVEYS surveys with 5 items each"
"${PSQL[@]}" <<SQL
INSERT INTO accounts (id, tenant_id, name, owner, created_by)
SELECT gen_random_uuid(), '$TENANT', 'Account ' || g, 'rep-' || (g % 50), 'bench'
FROM generate_series(1, 1000) g;
INSERT INTO opportunities (id, tenant_id, account_id, name, amount_minor, currency, current_stage,
                           stage_entered_at, owner, created_by, last_assessed_at, created_at)
SELECT gen_random_uuid(), '$TENANT', a.id, 'Opp ' || g, (g % 1000) * 100000,
       (ARRAY['CNY','USD'])[1 + g % 2], 'S' || (1 + g % 6),
       now() - (g % 90) * interval '1 day', 'rep-' || (g % 50), 'bench',
       CASE WHEN g % 3 = 0 THEN NULL ELSE now() - (g % 60) * interval '1 day' END,
       now() - (g % 120) * interval '1 day'
FROM generate_series(1, $OPPS) g
JOIN LATERAL (SELECT id FROM accounts WHERE tenant_id = '$TENANT' OFFSET (g % 1000) LIMIT 1) a ON true;
INSERT INTO survey_records (id, tenant_id, account_id, surveyed_at, surveyor, sections, completeness_percent, created_by)
SELECT gen_random_uuid(), '$TENANT', a.id, now() - g * interval '1 minute', 'bench', '{}', 17, 'bench'
FROM generate_series(1, $SURVEYS) g
JOIN LATERAL (SELECT id FROM accounts WHERE tenant_id = '$TENANT' OFFSET (g % 1000) LIMIT 1) a ON true;
INSERT INTO survey_inventory_items (tenant_id, survey_id, account_id, position, category, brand, model, quantity, deployed_year, end_of_support)
SELECT s.tenant_id, s.id, s.account_id, p, (ARRAY['network','server','storage','security','software'])[p],
       (ARRAY['Huawei','Cisco','H3C','Inspur','Dell'])[1 + (hashtext(s.id::text || p) & 3)],
       'M' || (abs(hashtext(s.id::text || p)) % 50), 1 + p, 2010 + (abs(hashtext(s.id::text)) % 15),
       date '2024-01-01' + (abs(hashtext(s.id::text || p)) % 1500)
FROM survey_records s, generate_series(1, 5) p WHERE s.tenant_id = '$TENANT';
WITH latest AS (SELECT DISTINCT ON (account_id) id FROM survey_records WHERE tenant_id = '$TENANT'
                ORDER BY account_id, surveyed_at DESC, id DESC)
UPDATE survey_inventory_items SET is_latest = true WHERE survey_id IN (SELECT id FROM latest);
ANALYZE;
SQL

timeit() { # label url
  local label=$1 url=$2 t=()
  for _ in $(seq 1 "$RUNS"); do
    t+=("$(curl -fs -o /dev/null -w '%{time_total}' -H "$H" "$url")")
  done
  printf '%s\n' "${t[@]}" | sort -n | awk -v l="$label" '{a[NR]=$1} END {printf "%-48s median %.1f ms  p90 %.1f ms  (n=%d)\n", l, a[int(NR/2)+1]*1000, a[int(NR*0.9)]*1000, NR}'
}
echo "== query latency over loopback (curl time_total, $RUNS runs)"
timeit "GET /v1/pipeline" "$B/v1/pipeline"
timeit "GET /v1/pipeline?owner=rep-7" "$B/v1/pipeline?owner=rep-7"
timeit "GET /v1/opportunities?stage=S3&limit=50" "$B/v1/opportunities?stage=S3&limit=50"
timeit "GET /v1/inventory?brand=huawei&limit=50" "$B/v1/inventory?brand=huawei&limit=50"
timeit "GET /v1/inventory?end_of_support_before=2024-06-01" "$B/v1/inventory?end_of_support_before=2024-06-01"

echo "== XLSX with a 1,000-item inventory"
ACC=$(curl -fs -X POST "$B/v1/accounts" -H "$H" -H 'Content-Type: application/json' -d '{"name":"XLSX bench"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
python3 - "$DIR/survey.json" <<'PY'
import json, sys
items = [{"category": ["network", "server", "storage", "security"][i % 4], "brand": f"Brand {i % 17}",
          "model": f"Model-{i}", "quantity": i % 40, "deployed_year": 2010 + i % 15,
          "end_of_support": f"20{25 + i % 5}-06-30", "notes": f"机柜 {i}"} for i in range(1000)]
json.dump({"surveyed_at": "2026-11-20T00:00:00Z", "sections": {"inventory": items}}, open(sys.argv[1], "w"))
PY
SID=$(curl -fs -X POST "$B/v1/accounts/$ACC/survey-records" -H "$H" -H 'Content-Type: application/json' \
  -d @"$DIR/survey.json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
timeit "GET export.xlsx (1,000 items)" "$B/v1/survey-records/$SID/export.xlsx"
curl -fs -H "$H" -o "$DIR/survey.xlsx" "$B/v1/survey-records/$SID/export.xlsx"
echo "workbook size: $(stat -c %s "$DIR/survey.xlsx") bytes"
t=()
for _ in $(seq 1 "$RUNS"); do
  t+=("$(curl -fs -o /dev/null -w '%{time_total}' -X POST -H "$H" \
    -H 'Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' \
    --data-binary @"$DIR/survey.xlsx" "$B/v1/accounts/$ACC/survey-records/import")")
done
printf '%s\n' "${t[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%-48s median %.1f ms  p90 %.1f ms  (n=%d)\n", "POST import (1,000 items, stores the record)", a[int(NR/2)+1]*1000, a[int(NR*0.9)]*1000, NR}'

echo "== assessment from the record: an opportunity with 200 activities"
post() { curl -fs -X POST "$B$1" -H "$H" -H 'Content-Type: application/json' -d "$2" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
RACC=$(post /v1/accounts '{"name":"Record bench"}')
C1=$(post "/v1/accounts/$RACC/contacts" '{"name":"王建国","methodology_role":"it_head","key_person":true}')
C2=$(post "/v1/accounts/$RACC/contacts" '{"name":"李工","methodology_role":"technical_authority"}')
ROPP=$(post "/v1/accounts/$RACC/opportunities" '{"name":"Record bench deal"}')
"${PSQL[@]}" <<SQL
INSERT INTO activities (id, tenant_id, account_id, opportunity_id, kind, occurred_at, subject,
                        participants, our_attendees, key_actions, tools, findings, created_by)
SELECT gen_random_uuid(), '$TENANT', '$RACC', '$ROPP',
       (ARRAY['visit','meeting','call','email'])[1 + g % 4], now() - g * interval '6 hours',
       'Activity ' || g,
       CASE WHEN g % 2 = 0 THEN ARRAY['$C1'::uuid] ELSE ARRAY['$C1'::uuid, '$C2'::uuid] END,
       ARRAY['bench'], CASE WHEN g % 10 = 0 THEN ARRAY['S1.A03'] ELSE ARRAY[]::text[] END,
       ARRAY[]::text[],
       jsonb_build_object('schema_version', 1, 'observations',
         jsonb_build_array(jsonb_build_object('signal', 'S1.B0' || (1 + g % 9), 'evidence', 'seen ' || g)),
         'requirements', CASE WHEN g = 1 THEN '{"clarity":"clear","leaning":"us"}'::jsonb END),
       'bench'
FROM generate_series(1, 200) g;
ANALYZE activities;
SQL
timeit "GET .../stage-assessments/draft (200 activities)" "$B/v1/opportunities/$ROPP/stage-assessments/draft"
