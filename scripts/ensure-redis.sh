#!/usr/bin/env bash
# Make sure a Redis answers at 127.0.0.1:6379: start it, or install it from Debian's packages first.
set -euo pipefail
answers() { (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c 5 <&3 | grep -q PONG) 2>/dev/null; }
if answers; then exit 0; fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "redis-server not found: installing it" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq redis-server >/dev/null
fi
mkdir -p /tmp/erasure-redis
redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
  --dir /tmp/erasure-redis --logfile /tmp/erasure-redis/redis.log
for _ in $(seq 1 50); do answers && exit 0; sleep 0.1; done
echo "Redis did not answer on 127.0.0.1:6379; see /tmp/erasure-redis/redis.log" >&2
exit 1
