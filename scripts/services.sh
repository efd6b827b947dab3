#!/usr/bin/env bash
# Make sure the PostgreSQL and Redis the tests use answer; start them when they do not.
set -euo pipefail
pg_host=${TEST_PG_HOST:-127.0.0.1}
redis_port=${TEST_REDIS_PORT:-6379}

if ! pg_isready -q -h "$pg_host" -p 5432; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 30); do pg_isready -q -h "$pg_host" -p 5432 && break; sleep 1; done
fi
pg_isready -h "$pg_host" -p 5432

if ! redis-cli -h 127.0.0.1 -p "$redis_port" ping >/dev/null 2>&1; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.5; done
fi
echo "redis: $(redis-cli -h 127.0.0.1 -p "$redis_port" ping)"
