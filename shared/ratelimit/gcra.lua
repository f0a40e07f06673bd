-- GCRA token bucket: one organisation-wide budget, a reserve for priority pools
-- and an optional per-pool share, all decided in one atomic call on Redis's clock.
--
-- KEYS[1]  org bucket: theoretical arrival time (TAT), integer microseconds since the rebased epoch
-- KEYS[2]  pool bucket TAT (same encoding; only touched when ARGV[3] > 0)
-- ARGV[1]  org emission interval, microseconds (1e6 / rate)
-- ARGV[2]  org tolerance usable by this pool, microseconds ((burst - reserved tokens) * interval)
-- ARGV[3]  pool emission interval, microseconds (0 = the pool has no share limit)
-- ARGV[4]  pool tolerance, microseconds (pool burst * pool interval)
-- ARGV[5]  1 = take a token when one is free, 0 = only report the wait
-- ARGV[6]  epoch offset, seconds (keeps microsecond values far below 2^53, exact in Lua doubles)
-- KEYS[3]  interactive marker: exists while interactive work asked for a token within ARGV[8] ms
-- KEYS[4]  bulk lane bucket TAT (same encoding; only touched while the marker exists)
-- ARGV[7]  the caller's lane: 'interactive', 'bulk' or '' (no lane: a pass, a tool)
-- ARGV[8]  marker lifetime, milliseconds
-- ARGV[9]  bulk lane emission interval while the marker exists, microseconds (0 = bulk has no cap)
-- ARGV[10] bulk lane tolerance, microseconds
--
-- Lanes (issue 21): an interactive caller (re)sets the marker whenever it asks; a bulk caller, while the
-- marker exists, must also conform to the bulk lane bucket (interval = org interval / share), so bulk
-- takes at most that share of the budget while interactive work wants tokens, and all of it otherwise.
--
-- Returns {granted (1|0), wait_us, now_us}: wait_us is the exact time until this pool would be
-- admitted (0 when granted), now_us is Redis's clock in microseconds since the rebased epoch.
-- Numbers are written with %.0f: tostring() would round values above 1e14.

local t = redis.call('TIME')
local now = (tonumber(t[1]) - tonumber(ARGV[6])) * 1000000 + tonumber(t[2])

-- Returns the TAT after one more request and how long until that request conforms.
local function check(key, interval, tolerance)
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  local new_tat = tat + interval
  local wait = new_tat - tolerance - now
  if wait < 0 then wait = 0 end
  return new_tat, wait
end

local function store(key, tat)
  -- Once the TAT is in the past the key means "full bucket", exactly like a missing key.
  local ttl_ms = math.ceil((tat - now) / 1000)
  if ttl_ms < 1 then ttl_ms = 1 end
  redis.call('SET', key, string.format('%.0f', tat), 'PX', ttl_ms)
end

local org_tat, wait = check(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))

local pool_interval = tonumber(ARGV[3])
local pool_tat = nil
if pool_interval > 0 then
  local pool_wait
  pool_tat, pool_wait = check(KEYS[2], pool_interval, tonumber(ARGV[4]))
  if pool_wait > wait then wait = pool_wait end
end

local lane = ARGV[7] or ''
if lane == 'interactive' and ARGV[5] == '1' then
  redis.call('SET', KEYS[3], '1', 'PX', tonumber(ARGV[8]))
end

local lane_tat = nil
local lane_interval = tonumber(ARGV[9]) or 0
if lane == 'bulk' and lane_interval > 0 and redis.call('EXISTS', KEYS[3]) == 1 then
  local lane_wait
  lane_tat, lane_wait = check(KEYS[4], lane_interval, tonumber(ARGV[10]))
  if lane_wait > wait then wait = lane_wait end
end

if wait > 0 or ARGV[5] ~= '1' then
  return {0, math.ceil(wait), now}
end

store(KEYS[1], org_tat)
if pool_tat then store(KEYS[2], pool_tat) end
if lane_tat then store(KEYS[4], lane_tat) end
return {1, 0, now}
