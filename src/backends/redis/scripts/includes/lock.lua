--[[
  The general path's view of the name (includes/name.lua has its keys and first facts),
  shared by grant, purge, drain and touch-keys, so each fact is read from Redis at most once
  per run: `holders` and `queued` are kept current by every helper that adds or removes, so a
  path that finds the queue empty never touches the queue's keys; `used` and `lastFence` are
  the counters in the data hash, read by counters() on first need and kept current after.
  An empty holder set means no permits in use, whatever `used` says, so a counter that
  drifted (a record lost by hand-editing) heals itself.
  headBefore is the queue's head when the script started (false: empty), for drain(): taken
  by noteHead() just before the first change to the queue, so a run that changes nothing
  there never reads it.
]]
--- @include "name"

local used, lastFence, nowText, headBefore
-- for touchKeys: whether an expiry may now lie beyond what the keys' TTL covers (or a key
-- was created), the latest holder expiry set by this run, and how many holders it (re)armed
local grew, grownTo, fresh = false, 0, 0
local BATCH = 500

-- now as exact decimal ms with the µs fraction ('1700000000123.456'), for replies and
-- wake-ups: a Lua number in a reply would arrive as an integer. Made once per run.
local function serverMs()
  nowText = nowText or string.format('%.0f.%03d', math.floor(nowMicros / 1000), nowMicros % 1000)
  return nowText
end

-- Loads `used` and `lastFence` on first need. `field` (optional): a field of the data hash to
-- read in the same call, returned raw (false or nil when absent).
local function counters(field)
  if lastFence then return field and redis.call('HGET', D, field) end
  local stored = field and redis.call('HMGET', D, 'used', 'fence', field) or redis.call('HMGET', D, 'used', 'fence')
  used, lastFence = holders == 0 and 0 or tonumber(stored[1] or '0'), tonumber(stored[2] or '0')
  return stored[3]
end

-- A holder's expiry was set to expiresAt by this run.
local function grow(expiresAt)
  grew = true
  fresh = fresh + 1
  if expiresAt > grownTo then grownTo = expiresAt end
end

local function queueHead()
  return redis.call('ZRANGE', Q, 0, 0)[1]
end

-- ms until the earliest holder expires, or -1 when none holds: a head that does not fit can
-- get its turn no sooner (unless a holder leaves first, which wakes it again).
local function untilEarliestExpiry()
  if holders == 0 then return -1 end
  local earliest = redis.call('ZRANGE', H, 0, 0, 'WITHSCORES')[2]
  if not earliest then return -1 end
  return math.max(0, math.ceil(tonumber(earliest) - now))
end

local function noteHead()
  if headBefore == nil then headBefore = queued > 0 and queueHead() or false end
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
local function holdersLeft(count, permits)
  holders = holders - count
  if holders <= 0 then
    holders, used = 0, 0
  elseif permits > 0 then
    -- (HINCRBY by a Lua -0 would send '-0', which Redis refuses)
    redis.call('HINCRBY', D, 'used', -permits)
    if used then used = used - permits end
  end
end

-- Removes one holder and its record; returns the record (nil when it had none).
local function removeHolder(token)
  local holder = parseHolder(redis.call('HGET', D, 'h:' .. token))
  redis.call('ZREM', H, token)
  redis.call('HDEL', D, 'h:' .. token)
  holdersLeft(1, holder and holder.permits or 0)
  return holder
end

-- Removes a queued token from the queue, the waiter set and its record.
local function removeWaiter(token)
  noteHead()
  queued = queued - redis.call('ZREM', Q, token)
  redis.call('ZREM', W, token)
  redis.call('HDEL', D, 'w:' .. token)
end
