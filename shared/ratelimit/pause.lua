-- Push the org bucket's TAT forward (a 429 pause or a header correction). Never moves it back.
--
-- KEYS[1]  org bucket TAT, integer microseconds since the rebased epoch
-- ARGV[1]  offset, microseconds: the TAT becomes at least now + offset
-- ARGV[2]  epoch offset, seconds
--
-- Returns {moved (1|0), tat_us - now_us after the call (may be <= 0 for an idle bucket)}.

local t = redis.call('TIME')
local now = (tonumber(t[1]) - tonumber(ARGV[2])) * 1000000 + tonumber(t[2])
local target = now + tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1])) or now

if target <= tat then
  return {0, math.floor(tat - now)}
end

local ttl_ms = math.ceil((target - now) / 1000)
if ttl_ms < 1 then ttl_ms = 1 end
redis.call('SET', KEYS[1], string.format('%.0f', target), 'PX', ttl_ms)
return {1, math.floor(target - now)}
