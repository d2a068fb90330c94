--[[
  Grants permits to a token now, or queues it (one round trip: acquire-or-enqueue).

  KEYS[1] holders  ZSET token -> expiresAt (ms, server clock)
  KEYS[2] queue    ZSET token -> arrival seq
  KEYS[3] waiters  ZSET token -> waiter expiresAt (ms)
  KEYS[4] data     HASH h:<token>, w:<token>, used, seq, fence, kind, limit

  ARGV[1] token       ARGV[2] permits   ARGV[3] limit      ARGV[4] ttl (ms)
  ARGV[5] enqueue ('1' or '0')          ARGV[6] waiterTtl (ms)
  ARGV[7] clientId    ARGV[8] owner     ARGV[9] kind       ARGV[10] wake channel prefix
  ARGV[11] event channel prefix         ARGV[12] name

  Publishes (includes/events.lua) `expired` / `left` for what the purge removed, `handoff`
  for every grant from the queue (the caller's own included, when its purge made room),
  `acquired` for a grant to a caller that was not served from the queue, `waiting` when the
  caller joins the queue (not when it refreshes its entry). Re-arming a holder's TTL is no
  event: it confirms a grant already reported.

  Returns {1, fence}                    granted (or already held: TTL re-armed)
          {0, position, retryAfter}     queued at 0-based position; retryAfter = ms until the
                                        earliest holder expires when at the head, else -1
          {0, -1, -1}                   not granted, not queued (a try)
          {ERR_ARGS} | {ERR_PERMITS}    refused; nothing changed
]]
--- @include "includes/args"
--- @include "includes/now"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"
--- @include "includes/events"

local token, clientId, owner, kind, wakePrefix = ARGV[1], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local permits, limit = positiveInt(ARGV[2]), positiveInt(ARGV[3])
local ttl, waiterTtl = positiveInt(ARGV[4]), positiveInt(ARGV[6])
if not (permits and limit and ttl and waiterTtl) or token == '' or string.find(clientId, '|', 1, true) then
  return { ERR_ARGS }
end
-- a head that can never fit would block the queue until its waiter expires
if permits > limit then return { ERR_PERMITS } end

local function queueFor(now, publish)
  if not redis.call('ZSCORE', KEYS[2], token) then
    redis.call('ZADD', KEYS[2], redis.call('HINCRBY', KEYS[4], 'seq', 1), token)
    publish('waiting', nil, permits, owner)
  end
  local record = { int(permits), int(limit), int(math.min(ttl, waiterTtl)), clientId, owner }
  redis.call('HSET', KEYS[4], 'w:' .. token, table.concat(record, '|'))
  redis.call('ZADD', KEYS[3], now + waiterTtl, token)
  local position = redis.call('ZRANK', KEYS[2], token)
  local retryAfter = -1
  if position == 0 then
    local earliest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
    if earliest then retryAfter = math.max(0, math.ceil(tonumber(earliest) - now)) end
  end
  return { 0, position, retryAfter }
end

local function decide(now, nowMicros, publish, headBefore)
  local held = redis.call('ZSCORE', KEYS[1], token) and readHolder(KEYS, token)
  if held then
    redis.call('ZADD', KEYS[1], now + ttl, token)
    return { 1, held.fence }
  end
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if (not head or head == token) and usedPermits(KEYS) + permits <= limit then
    local fence = grant(KEYS, token, permits, owner, now + ttl, nowMicros)
    publish('acquired', fence, permits, owner, ttl)
    drain(KEYS, now, nowMicros, wakePrefix, nil, publish, headBefore)
    return { 1, fence }
  end
  if ARGV[5] == '1' then return queueFor(now, publish) end
  return { 0, -1, -1 }
end

local now, nowMicros = serverTime()
local publish = newEvents(ARGV[11], ARGV[12], kind, now)
local headBefore = queueHead(KEYS)
purge(KEYS, now, publish)
drain(KEYS, now, nowMicros, wakePrefix, token, publish, headBefore)
redis.call('HSET', KEYS[4], 'kind', kind, 'limit', int(limit))
local result = decide(now, nowMicros, publish, headBefore)
touchKeys(KEYS, now)
return result
