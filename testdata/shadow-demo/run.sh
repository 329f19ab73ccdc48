#!/usr/bin/env bash
# make demo-shadow: srctl shadow between the local MariaDB (the primary) and a second mariadbd
# this script starts in ./srctl-demo-shadow (the shadow), with three planted differences on the
# shadow: an index missing, a function missing, one row changed. Traffic from the mariadb
# client goes through the proxy; then srctl diff reads the proxy's logs, and srctl replay runs
# the logged queries again on both servers, and srctl capture writes the context of the
# regressed endpoint.
set -euo pipefail
BIN=${BIN:-bin}
DIR=srctl-demo-shadow
PRIMARY_PORT=${PRIMARY_PORT:-3306}
SHADOW_PORT=${SHADOW_PORT:-33307}
PROXY_PORT=${PROXY_PORT:-19031}
rm -rf "$DIR" && mkdir -p "$DIR"
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)

echo "== starting a second mariadbd on 127.0.0.1:$SHADOW_PORT (data in $DIR/shadow-data)"
mariadb-install-db --no-defaults --datadir="$PWD/$DIR/shadow-data" --user="$(id -un)" \
  --auth-root-authentication-method=normal --skip-test-db > "$DIR/install.log" 2>&1
"$MARIADBD" --no-defaults --datadir="$PWD/$DIR/shadow-data" --user="$(id -un)" --port="$SHADOW_PORT" \
  --bind-address=127.0.0.1 --socket="$PWD/$DIR/shadow.sock" --pid-file="$PWD/$DIR/shadow.pid" \
  --skip-log-bin --innodb-buffer-pool-size=32M --log-error="$PWD/$DIR/shadow-err.log" 2>> "$DIR/shadow-err.log" &
SHADOW_PID=$!
PROXY_PID=
cleanup() {
  [ -n "$PROXY_PID" ] && kill "$PROXY_PID" 2>/dev/null || true
  kill "$SHADOW_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 60); do (echo > /dev/tcp/127.0.0.1/"$SHADOW_PORT") 2>/dev/null && break; sleep 0.5; done

echo "== the same data on both, then the planted differences on the shadow"
seed="DROP DATABASE IF EXISTS srctl_demo_shadow; CREATE DATABASE srctl_demo_shadow; USE srctl_demo_shadow;
CREATE TABLE customers (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL);
INSERT INTO customers SELECT seq, CONCAT('customer ', seq) FROM seq_1_to_50;
CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT NOT NULL, total DECIMAL(10,2) NOT NULL);
INSERT INTO orders SELECT seq, seq % 1000, seq * 1.5 FROM seq_1_to_200000;"
mariadb -h127.0.0.1 -P"$PRIMARY_PORT" -uroot -e "$seed
CREATE INDEX idx_customer ON orders (customer_id);
CREATE FUNCTION discount(x DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN x * 0.9;"
mariadb -h127.0.0.1 -P"$SHADOW_PORT" -uroot -e "$seed
UPDATE customers SET name = 'renamed on the shadow' WHERE id = 7;"

echo "== srctl shadow --listen 127.0.0.1:$PROXY_PORT --primary 127.0.0.1:$PRIMARY_PORT --shadow 127.0.0.1:$SHADOW_PORT --log-sink $DIR/shadow-logs"
"$BIN"/srctl shadow --listen 127.0.0.1:"$PROXY_PORT" --primary 127.0.0.1:"$PRIMARY_PORT" \
  --shadow 127.0.0.1:"$SHADOW_PORT" --shadow-user root --log-sink "$DIR/shadow-logs" \
  --metrics-addr 127.0.0.1:19094 --queue-size 4096 2> "$DIR/shadow.log" &
PROXY_PID=$!
for _ in $(seq 1 50); do (echo > /dev/tcp/127.0.0.1/"$PROXY_PORT") 2>/dev/null && break; sleep 0.1; done

echo "== 30 client sessions through the proxy (mariadb client, one connection each)"
for i in $(seq 1 30); do
  mariadb --comments -h127.0.0.1 -P"$PROXY_PORT" -uroot srctl_demo_shadow > /dev/null 2>&1 <<SQL || true
SELECT id, total FROM orders WHERE customer_id = $((100 + i)) /*route='/orders/by-customer'*/;
SELECT discount(total) FROM orders WHERE id = $i /*route='/orders/discount'*/;
SELECT name FROM customers WHERE id = $((10 + i % 30)) /*route='/customers/get'*/;
SELECT id, name FROM customers ORDER BY id /*route='/customers/list'*/;
SQL
done
kill -TERM "$PROXY_PID"; wait "$PROXY_PID" || true; PROXY_PID=
echo "== srctl diff --min-delta 1ms $DIR/shadow-logs"
"$BIN"/srctl diff --min-delta 1ms --color never "$DIR/shadow-logs"
echo
echo "== srctl replay --per-endpoint 3 --min-delta 1ms $DIR/shadow-logs (the logged queries again, on both servers)"
"$BIN"/srctl replay --quiet --primary-dsn "root@tcp(127.0.0.1:$PRIMARY_PORT)/srctl_demo_shadow" \
  --shadow-dsn "root@tcp(127.0.0.1:$SHADOW_PORT)/srctl_demo_shadow" --per-endpoint 3 --min-delta 1ms "$DIR/shadow-logs" || true
echo
echo "== srctl capture --endpoint /orders/by-customer --out $DIR/orders-context (its context for whoever fixes it)"
"$BIN"/srctl capture --endpoint /orders/by-customer --primary-dsn "root@tcp(127.0.0.1:$PRIMARY_PORT)/srctl_demo_shadow" \
  --shadow-dsn "root@tcp(127.0.0.1:$SHADOW_PORT)/srctl_demo_shadow" --out "$DIR/orders-context" --per-endpoint 5 "$DIR/shadow-logs"
echo "== $DIR/orders-context/summary.md"
cat "$DIR/orders-context/summary.md"
echo "== files:"; (cd "$DIR/orders-context" && find . -type f | sort)
