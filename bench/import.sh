# The import scenario of bench/run.sh (sourced by it, after the request scenarios; uses its
# $work, $BP, $PORT, $PSQL, $svc_pid and results table): a Salesforce Data Loader export of
# IMPORT_ACCOUNTS accounts and IMPORT_CONTACTS contacts (a quarter of them reporting to their
# account's first contact) goes in through `buyerpath import` into a tenant of its own, and the
# same rows go into the same tables of another tenant with PostgreSQL's own COPY (the limit: no
# checks, no events, no report). Rows per second of each job (its started_at → finished_at),
# the service's peak RSS while importing, and the ratio to COPY.
#
#   IMPORT_ACCOUNTS=100000  IMPORT_CONTACTS=200000

IMPORT_ACCOUNTS=${IMPORT_ACCOUNTS:-100000}
IMPORT_CONTACTS=${IMPORT_CONTACTS:-200000}
echo "== import: $IMPORT_ACCOUNTS Salesforce accounts and $IMPORT_CONTACTS contacts, beside COPY"
import_tenant=00000000-0000-7000-8000-0000000f0001
copy_tenant=00000000-0000-7000-8000-0000000f0002
python3 - "$work" "$IMPORT_ACCOUNTS" "$IMPORT_CONTACTS" "$copy_tenant" <<'EOF'
import csv, sys, uuid
work, n_acc, n_con, copy_tenant = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
cities = [("上海", "上海"), ("北京", "北京"), ("杭州", "浙江"), ("成都", "四川"), ("广州", "广东")]
industries = ["Energy", "Banking", "Government", "Manufacturing", "Education"]
acc_ids, con_ids = {}, {}
def acc_uuid(i):
    return acc_ids.setdefault(i, str(uuid.UUID(int=(0x0190 << 112) | (0x7 << 76) | (0x8 << 60) | i)))
def con_uuid(i):
    return con_ids.setdefault(i, str(uuid.UUID(int=(0x0191 << 112) | (0x7 << 76) | (0x8 << 60) | i)))
per = max(1, n_con // n_acc)
with open(f"{work}/sf_accounts.csv", "w", newline="", encoding="utf-8") as f, \
     open(f"{work}/copy_accounts.csv", "w", newline="", encoding="utf-8") as g:
    w, c = csv.writer(f), csv.writer(g)
    w.writerow(["Id", "Name", "Industry", "Website", "Phone", "BillingStreet", "BillingCity",
                "BillingState", "BillingCountry", "ParentId", "OwnerId"])
    for i in range(n_acc):
        city, state = cities[i % len(cities)]
        sf = f"001BNCH{i:08d}"
        name = f"华东客户{i} 有限公司"
        w.writerow([sf, name, industries[i % 5], f"https://c{i}.example.cn", f"021-{i % 10000:04d}",
                    f"{i} 号路", city, state, "中国", "", "0055g00000BNCH1"])
        c.writerow([acc_uuid(i), copy_tenant, name, industries[i % 5], state, f"https://c{i}.example.cn",
                    "bench-importer", "bench-importer", "{salesforce:" + sf + "}"])
with open(f"{work}/sf_contacts.csv", "w", newline="", encoding="utf-8") as f, \
     open(f"{work}/copy_contacts.csv", "w", newline="", encoding="utf-8") as g:
    w, c = csv.writer(f), csv.writer(g)
    w.writerow(["Id", "AccountId", "FirstName", "LastName", "Title", "Department", "Email", "Phone",
                "MobilePhone", "ReportsToId"])
    for j in range(n_con):
        a = min(j // per, n_acc - 1)
        first = a * per
        boss = f"003BNCH{first:08d}" if j != first and j % 4 == 1 else ""
        sf = f"003BNCH{j:08d}"
        w.writerow([sf, f"001BNCH{a:08d}", f"建国{j}", "王", "工程师", "IT", f"w{j}@example.cn",
                    f"021-{j % 10000:04d}", f"138{j:08d}", boss])
        c.writerow([con_uuid(j), copy_tenant, acc_uuid(a), f"王建国{j}", "工程师", "it",
                    f"w{j}@example.cn", f"021-{j % 10000:04d}", con_uuid(first) if boss else "",
                    "{salesforce:" + sf + "}"])
EOF
$BP token --tenant "$import_tenant" --sub bench-importer --role manager --ttl 2h >"$work/import_token"
import_job() { # resource file copy-columns copy-file
  local resource=$1 file=$2 columns=$3 copy=$4
  # The peak RSS is measured from here on (writing 5 to clear_refs resets VmHWM).
  echo 5 >"/proc/$svc_pid/clear_refs" 2>/dev/null || true
  $BP import --url "http://127.0.0.1:$PORT" --token-file "$work/import_token" \
    --resource "$resource" --source salesforce "$file" >"$work/import_$resource.log" 2>&1
  local rss job rows rate
  rss=$(($(peak_rss_kib) / 1024))
  job=$(curl -fsS -H "Authorization: Bearer $(cat "$work/import_token")" \
    "http://127.0.0.1:$PORT/v1/imports?limit=1")
  read -r rows rate < <(python3 -c '
import json, sys
from datetime import datetime
j = json.loads(sys.argv[1])["items"][0]
t = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))
secs = (t(j["finished_at"]) - t(j["started_at"])).total_seconds()
assert j["status"] == "succeeded" and j["failed_rows"] == 0, j
print(j["created"], round(j["created"] / secs))' "$job")
  local t0 t1 copy_rate
  t0=$(date +%s%N)
  "${PSQL[@]}" -c "\\copy $columns FROM '$copy' WITH (FORMAT csv)"
  t1=$(date +%s%N)
  copy_rate=$(python3 -c "print(round($rows / (($t1 - $t0) / 1e9)))")
  local ratio
  ratio="$(python3 -c "print(f'{$rate / $copy_rate:.2f}')")×"
  import_results+=("| $resource | $rows | $rate | $rss MiB | $copy_rate | $ratio |")
  echo "   $resource: $rows rows, $rate rows/s, peak RSS $rss MiB; COPY $copy_rate rows/s; ratio $ratio"
}
import_job accounts "$work/sf_accounts.csv" \
  "accounts (id, tenant_id, name, industry, region, website, owner, created_by, external_refs)" \
  "$work/copy_accounts.csv"
import_job contacts "$work/sf_contacts.csv" \
  "contacts (id, tenant_id, account_id, name, title, department, email, phone, reports_to, external_refs)" \
  "$work/copy_contacts.csv"
