#!/usr/bin/env bash
# PostgreSQL: `arca pg verify` restores into a scratch server and runs the integrity checks;
# a deliberately broken foreign key and a failing custom check must fail it. The cluster has data
# checksums, so pg_checksums runs on the stopped scratch copy.
source "$(dirname "$0")/lib_pg.sh"

PG_INITDB_OPTS=--data-checksums start_pg
pg_init_repo
q -c "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)" \
  -c "CREATE TABLE orders (id int PRIMARY KEY, customer int REFERENCES customers, total numeric)" \
  -c "INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 500) g" \
  -c "INSERT INTO orders SELECT g, 1 + g % 500, g * 1.5 FROM generate_series(1, 5000) g"
cat > "$T/checks.sql" <<'SQL'
-- check: every order has a positive total
-- expect: = 0
SELECT count(*) FROM orders WHERE total <= 0;
-- check: there are customers
-- expect: nonempty
SELECT 1 FROM customers LIMIT 1;
SQL

step "verify passes on a healthy backup"
pa pg backup --repo "$REPO" --password-file "$PW" -q
a pg verify --repo "$REPO" --password-file "$PW" --checks "$T/checks.sql" --json > "$T/v.json"
python3 - "$T/v.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["passed"], j
names = {c["name"]: c for c in j["checks"]}
for n in ["row counts", "foreign keys", "primary keys", "indexes (amcheck)", "data checksums",
          "every order has a positive total", "there are customers"]:
    assert names[n]["status"] == "passed", (n, names[n])
assert "2 tables match" in names["row counts"]["detail"], names["row counts"]
assert j["rto_sample_s"] > 0 and j["recovery_point_age_s"] >= 0, j
assert j["scratch"] is None
PY

step "a broken foreign key fails verify (exit 12) and names the constraint"
q -c "SET session_replication_role = replica" -c "DELETE FROM customers WHERE id = 7"
pa pg backup --repo "$REPO" --password-file "$PW" -q
expect_exit 12 a pg verify --repo "$REPO" --password-file "$PW"
grep -q "FAIL\] foreign keys" "$T/.stdout" || { cat "$T/.stdout"; fail "verify did not report the foreign key"; }
grep -q "orders_customer_fkey" "$T/.stdout" || { cat "$T/.stdout"; fail "the constraint is not named"; }

step "a custom check whose expectation fails is reported with the value"
q -c "INSERT INTO customers VALUES (7, 'back')" -c "UPDATE orders SET total = -1 WHERE id = 3"
pa pg backup --repo "$REPO" --password-file "$PW" -q
expect_exit 12 a pg verify --repo "$REPO" --password-file "$PW" --checks "$T/checks.sql"
grep -q "FAIL\] every order has a positive total (postgres): expected = 0, got 1" "$T/.stdout" || { cat "$T/.stdout"; fail "custom check failure not reported"; }
grep -q "ok \] foreign keys" "$T/.stdout" || { cat "$T/.stdout"; fail "foreign keys should pass again"; }

step "unlogged tables (whose rows no physical backup holds) are left out of the counts"
q -c "UPDATE orders SET total = 1 WHERE id = 3" -c "CREATE UNLOGGED TABLE scratchpad AS SELECT generate_series(1, 10) x"
pa pg backup --repo "$REPO" --password-file "$PW" -q
SNAP=$(pa snapshots --repo "$REPO" --password-file "$PW" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[-1]["id"])')
a pg verify --repo "$REPO" --password-file "$PW" "${SNAP:0:8}" --keep > "$T/keep.out"
grep -q "2 tables match" "$T/keep.out" || { cat "$T/keep.out"; fail "unlogged table counted"; }
SCRATCH=$(sed -n 's/.*scratch data directory kept: //p' "$T/keep.out")
[ -f "$SCRATCH/PG_VERSION" ] || fail "--keep did not keep the scratch data directory"
rm -rf "$(dirname "$SCRATCH")"

step "a malformed checks file is a usage error"
printf 'SELECT 1;\n' > "$T/bad.sql"
expect_exit 2 a pg verify --repo "$REPO" --password-file "$PW" --checks "$T/bad.sql"
err_contains "before the first '-- check: NAME' line"
printf -- '-- check: x\nSELECT 1;\n' > "$T/bad.sql"
expect_exit 2 a pg verify --repo "$REPO" --password-file "$PW" --checks "$T/bad.sql"
err_contains "has no '-- expect:' line"
[ -z "$(ls -d /tmp/arca-verify-* 2>/dev/null)" ] || fail "verify left scratch directories behind: $(ls -d /tmp/arca-verify-*)"
echo "PASS"
