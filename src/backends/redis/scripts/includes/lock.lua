--[[
  The general path's helpers (includes/name.lua has the keys and the run table they share),
  used by grant, purge, drain and touch-keys, so each fact is read from Redis at most once per
  run: `run.holders` and `run.queued` are kept current by every helper that adds or removes,
  so a path that finds the queue empty never touches the queue's keys; `run.used` and
  `run.lastFence` are the counters in the data hash, read by counters() on first need and kept
  current after. An empty holder set means no permits in use, whatever `used` says, so a
  counter that drifted (a record lost by hand-editing) heals itself.
  run.headBefore is the queue's head when the script started (false: empty), for drain():
  taken by noteHead() just before the first change to the queue, so a run that changes
  nothing there never reads it.
]]
--- @include "name"

local BATCH = 500

-- Loads `used` and `lastFence` on first need. `field` (optional): a field of the data hash to
-- read in the same call, returned raw (false or nil when absent).
local function counters(run, field)
  if run.lastFence then return field and redis.call('HGET', D, field) end
  local stored = field and redis.call('HMGET', D, 'used', 'fence', field) or redis.call('HMGET', D, 'used', 'fence')
  run.used = run.holders == 0 and 0 or tonumber(stored[1] or '0')
  run.lastFence = tonumber(stored[2] or '0')
  return stored[3]
end

-- A holder's expiry was set to expiresAt by this run.
local function grow(run, expiresAt)
  run.grew = true
  run.fresh = run.fresh + 1
  if expiresAt > run.grownTo then run.grownTo = expiresAt end
end

local function queueHead()
  return redis.call('ZRANGE', Q, 0, 0)[1]
end

-- ms (fractional, exact to the µs) until the earliest holder expires, or -1 when none holds: a
-- head that does not fit can get its turn no sooner (unless a holder leaves first, which wakes
-- it again).
local function untilEarliestExpiry(run)
  if run.holders == 0 then return -1 end
  local earliest = redis.call('ZRANGE', H, 0, 0, 'WITHSCORES')[2]
  if not earliest then return -1 end
  return math.max(0, tonumber(earliest) - run.now)
end

local function noteHead(run)
  if run.headBefore == nil then run.headBefore = run.queued > 0 and queueHead() or false end
end

-- The parsed records (field prefix 'h:' or 'w:') of tokens, by index; nil where absent.
local function readRecords(kind, tokens, parse)
  local records = {}
  for first = 1, #tokens, BATCH do
    local fields = {}
    for i = first, math.min(first + BATCH - 1, #tokens) do fields[#fields + 1] = kind .. tokens[i] end
    local raw = redis.call('HMGET', D, unpack(fields))
    for i = 1, #fields do records[first + i - 1] = parse(raw[i]) end
  end
  return records
end

local function deleteRecords(kind, tokens)
  for first = 1, #tokens, BATCH do
    local fields = {}
    for i = first, math.min(first + BATCH - 1, #tokens) do fields[#fields + 1] = kind .. tokens[i] end
    redis.call('HDEL', D, unpack(fields))
  end
end

-- Bookkeeping after `count` holders holding `permits` in all left KEYS[1] and their records.
local function holdersLeft(run, count, permits)
  run.holders = run.holders - count
  if run.holders <= 0 then
    run.holders, run.used = 0, 0
  elseif permits > 0 then
    -- (HINCRBY by a Lua -0 would send '-0', which Redis refuses)
    redis.call('HINCRBY', D, 'used', -permits)
    if run.used then run.used = run.used - permits end
  end
end

-- Removes one holder and its record; returns the record (nil when it had none).
local function removeHolder(run, token)
  local holder = parseHolder(redis.call('HGET', D, 'h:' .. token))
  redis.call('ZREM', H, token)
  redis.call('HDEL', D, 'h:' .. token)
  holdersLeft(run, 1, holder and holder.permits or 0)
  return holder
end

-- Removes a queued token from the queue, the waiter set and its record.
local function removeWaiter(run, token)
  noteHead(run)
  run.queued = run.queued - redis.call('ZREM', Q, token)
  redis.call('ZREM', W, token)
  redis.call('HDEL', D, 'w:' .. token)
end
