-- Leases on a scarce slot (e.g. at most 2 recording jobs per organisation).
-- A sorted set: member = lease id, score = expiry in microseconds since the rebased epoch on
-- Redis's clock. Expired leases (a holder that was killed) are reclaimed before every decision.
--
-- KEYS[1]  lease sorted set
-- ARGV[1]  operation: 'acquire' | 'renew' | 'held'
-- ARGV[2]  epoch offset, seconds
-- ARGV[3]  lease id                  (acquire, renew)
-- ARGV[4]  ttl, microseconds          (acquire, renew)
-- ARGV[5]  limit                      (acquire)
--
-- Returns: acquire 1|0 (granted), renew 1|0 (lease was still alive), held = number of live leases.

local t = redis.call('TIME')
local now = (tonumber(t[1]) - tonumber(ARGV[2])) * 1000000 + tonumber(t[2])
local key = KEYS[1]
local op = ARGV[1]

redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now))

-- Keep the set alive exactly as long as its longest lease.
local function expire_with_last_lease()
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    local ttl_ms = math.ceil((tonumber(last[2]) - now) / 1000)
    if ttl_ms < 1 then ttl_ms = 1 end
    redis.call('PEXPIRE', key, ttl_ms)
  end
end

if op == 'held' then
  return redis.call('ZCARD', key)
end

local expiry = string.format('%.0f', now + tonumber(ARGV[4]))

if op == 'acquire' then
  if redis.call('ZSCORE', key, ARGV[3]) then
    return 0
  end
  if redis.call('ZCARD', key) >= tonumber(ARGV[5]) then
    return 0
  end
  redis.call('ZADD', key, expiry, ARGV[3])
  expire_with_last_lease()
  return 1
end

if op == 'renew' then
  -- An expired lease is not revived: its slot may already belong to someone else.
  if not redis.call('ZSCORE', key, ARGV[3]) then
    return 0
  end
  redis.call('ZADD', key, 'XX', expiry, ARGV[3])
  expire_with_last_lease()
  return 1
end

return redis.error_reply('unknown lease operation: ' .. tostring(op))
