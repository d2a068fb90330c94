--[[
  The three rate-limiter algorithms (see RateAlgorithm in src/backend.ts), all on the server's
  clock. Each constructor brings its state up to now and returns a table of:
    wait(amount)  ms until amount fits (0: it fits now), ignoring the queue: exact (fractional);
                  the reply rounds it up to whole ms (wholeMs) and also gives it in µs
    admit(cost)   records an admission now
    remaining()   how much more fits now
    resetIn()     ms until the limiter is back to full capacity
    stateUntil()  ms (server clock) until which the state still matters (keys live that long)

  keys[1] log   ZSET (sliding window) admission id -> admission ms; id = <µs>.<seq>:<cost>
  keys[4] data  HASH used (sliding window), tat (token bucket), win and count (fixed window)
]]
--- @include "records"

-- Time is fractional ms near 1.7e12, where a double keeps about 0.0002 ms (and tat is stored
-- to 0.001 ms): comparisons of derived times allow this much, or half an emission interval
-- if that is less, so that rounding never refuses what the formula admits.
local RATE_EPSILON = 0.001
local LOG_BATCH = 100

-- A wait(amount) as the reply's whole ms: rounded up, and at least 1 when it does not fit now
-- (so a refusal never says 0).
local function wholeMs(wait)
  if wait <= 0 then return 0 end
  return math.max(1, math.ceil(wait))
end

local function costOf(id)
  return tonumber(string.match(id, ':(%d+)$')) or 0
end

-- Admissions at t leave the window at t + window: entries with score <= now - window go.
-- Returns the cost still in the window.
local function purgeLog(keys, now, window)
  local gone = redis.call('ZRANGEBYSCORE', keys[1], '-inf', now - window)
  local freed = 0
  for _, id in ipairs(gone) do freed = freed + costOf(id) end
  if #gone > 0 then redis.call('ZREMRANGEBYSCORE', keys[1], '-inf', now - window) end
  -- an empty log means nothing is used, whatever the counter says (it heals itself)
  if redis.call('EXISTS', keys[1]) == 0 then
    redis.call('HDEL', keys[4], 'used')
    return 0
  end
  -- (HINCRBY by a Lua -0 would send '-0', which Redis refuses)
  if freed > 0 then return redis.call('HINCRBY', keys[4], 'used', -freed) end
  return tonumber(redis.call('HGET', keys[4], 'used') or '0')
end

-- ms until admissions worth `excess` have left the window, oldest first; a whole window
-- when even an empty log would not be enough (an estimate for a try behind a queue).
local function logWait(keys, excess, now, window)
  local start = 0
  while excess > 0 do
    -- every entry frees at least 1, so `excess` entries are the most this batch can need
    local count = math.min(excess, LOG_BATCH)
    local batch = redis.call('ZRANGE', keys[1], start, start + count - 1, 'WITHSCORES')
    if #batch == 0 then return window end
    for i = 1, #batch, 2 do
      excess = excess - costOf(batch[i])
      -- still in the window, so later than now by a float's rounding at least: never 0 (fits)
      if excess <= 0 then return math.max(tonumber(batch[i + 1]) + window - now, 0.001) end
    end
    start = start + count
  end
  return 0
end

local function slidingWindow(keys, now, nowMicros, limit, window)
  local used = purgeLog(keys, now, window)
  local newest = function()
    return tonumber(redis.call('ZRANGE', keys[1], -1, -1, 'WITHSCORES')[2] or '')
  end
  local self = {}
  function self.wait(amount) return logWait(keys, used + amount - limit, now, window) end
  function self.admit(cost)
    local id = int(nowMicros) .. '.' .. redis.call('HINCRBY', keys[4], 'seq', 1) .. ':' .. int(cost)
    redis.call('ZADD', keys[1], now, id)
    used = redis.call('HINCRBY', keys[4], 'used', cost)
  end
  function self.remaining() return math.max(0, limit - used) end
  function self.resetIn()
    local last = newest()
    return last and math.max(0, math.ceil(last + window - now)) or 0
  end
  function self.stateUntil() return (newest() or now - window) + window end
  return self
end

-- GCRA: tat is the theoretical arrival time; emission interval T = window / limit.
local function tokenBucket(keys, now, limit, window, burst)
  local T = window / limit
  local eps = math.min(RATE_EPSILON, T / 2)
  local offset = math.max(0, tonumber(redis.call('HGET', keys[4], 'tat') or '0') - now)
  local self = {}
  function self.wait(amount)
    local over = offset + amount * T - burst * T
    if over <= eps then return 0 end
    return over - eps
  end
  function self.admit(cost)
    offset = offset + cost * T
    redis.call('HSET', keys[4], 'tat', string.format('%.3f', now + offset))
  end
  function self.remaining()
    return math.max(0, math.floor((burst * T - offset + eps) / T))
  end
  function self.resetIn()
    if offset <= eps then return 0 end
    return math.ceil(offset - eps)
  end
  function self.stateUntil() return now + offset end
  return self
end

-- A counter per aligned window floor(now / window), reset when that changes.
local function fixedWindow(keys, now, limit, window)
  local win = math.floor(now / window)
  local stored = redis.call('HMGET', keys[4], 'win', 'count')
  local count = tonumber(stored[1]) == win and tonumber(stored[2] or '0') or 0
  local ends = (win + 1) * window
  local self = {}
  function self.wait(amount)
    if count + amount <= limit then return 0 end
    return ends - now
  end
  function self.admit(cost)
    count = count + cost
    redis.call('HSET', keys[4], 'win', int(win), 'count', int(count))
  end
  function self.remaining() return math.max(0, limit - count) end
  function self.resetIn()
    if count == 0 then return 0 end
    return math.max(1, math.ceil(ends - now))
  end
  function self.stateUntil() return count > 0 and ends or now end
  return self
end
