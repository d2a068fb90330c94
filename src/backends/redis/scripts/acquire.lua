--[[
  Grants permits to a token now, or queues it (one round trip: acquire-or-enqueue).

  KEYS[1] holders  ZSET token -> expiresAt (ms, server clock)
  KEYS[2] queue    ZSET token -> arrival seq
  KEYS[3] waiters  ZSET token -> waiter expiresAt (ms)
  KEYS[4] data     HASH h:<token>, w:<token>, used, seq, fence, kind, limit

  ARGV[1] prefix (of the channels)      ARGV[2] name
  ARGV[3] token       ARGV[4] permits   ARGV[5] limit      ARGV[6] ttl (ms)
  ARGV[7] enqueue ('1' or '0')          ARGV[8] waiterTtl (ms)
  ARGV[9] clientId    ARGV[10] owner    ARGV[11] kind
  ARGV[12] claimTtl (ms): the claim window min(ttl, waiterTtl) the client computed, armed for
           a hand-off grant to this waiter (never computed here)

  Publishes (includes/events.lua) `expired` / `left` for what the purge removed, `handoff`
  for every grant from the queue (the caller's own included, when its purge made room),
  `acquired` for a grant to a caller that was not served from the queue, `waiting` when the
  caller joins the queue (not when it refreshes its entry). Re-arming a holder's TTL is no
  event: it confirms a grant already reported.

  Returns {1, fence}                               granted (or already held: TTL re-armed)
          {0, position, retryAfter, serverMicros}  queued at 0-based position; retryAfter =
                                                   µs (not ms: a waiter asks again exactly
                                                   then) until the earliest holder expires
                                                   when at the head, else -1
          {0, -1, -1, serverMicros}                not granted, not queued (a try)
          {ERR_ARGS} | {ERR_PERMITS}               refused; nothing changed
  serverMicros is the script's clock as an integer count of µs (includes/now.lua), the clock a
  later hand-off's wake-up names (includes/drain.lua).
]]
--- @include "includes/stable-slot"
--- @include "includes/args"
--- @include "includes/now"
--- @include "includes/listeners"
--- @include "includes/margin"
--- @include "includes/sole"

local token, clientId, owner, kind = ARGV[3], ARGV[9], ARGV[10], ARGV[11]
-- permits, limit, ttl, waiterTtl and claimTtl are checked as positiveInt() checks one, in one
-- match over the five joined (one match each costs the run five calls), and converted once each
-- where they are used: waiterTtl and claimTtl stay strings, which only the general path reads
-- (Lua converts a string of digits where it computes with it)
if #ARGV < 12 or token == '' or string.find(clientId, '|', 1, true)
  or not string.find(ARGV[4] .. ' ' .. ARGV[5] .. ' ' .. ARGV[6] .. ' ' .. ARGV[8] .. ' ' .. ARGV[12],
    '^[1-9]%d* [1-9]%d* [1-9]%d* [1-9]%d* [1-9]%d*$') then
  return { ERR_ARGS }
end
local permits, limit, ttl = ARGV[4] + 0, ARGV[5] + 0, ARGV[6] + 0
local waiterTtl, claimTtl = ARGV[8], ARGV[12]
-- a head that can never fit would block the queue until its waiter expires
if permits > limit then return { ERR_PERMITS } end

local now, micros = serverTime(12)
-- The common case, a free name that nobody watches: nothing to purge, nobody queued, no event,
-- so grant at once, in the sole holder's form (includes/sole.lua): one HSET and one key expiry.
-- It comes before the includes it does not need: a run creates a function only when it reaches
-- its definition. (A watched name takes the general path below, which grants a free name in the
-- general form and publishes `acquired`.)
-- sole: the `fence` field of a name without sorted sets when it holds a sole holder's record,
-- which the general path unfolds first
local listens, sole = nil, nil
if redis.call('EXISTS', KEYS[1], KEYS[2]) == 0 then
  local data = KEYS[4]
  local stored = redis.call('HGET', data, 'fence')
  listens = anyListener(ARGV[1] .. 'ev:' .. ARGV[2])
  sole = stored and string.find(stored, '|', 1, true) and stored
  if not sole and not listens and not string.find(token, '|', 1, true) then
    -- the fence as a '%d' string, as int() in includes/records.lua writes it (this path does not
    -- include that); adding to the stored fence converts it once (tonumber() would parse it
    -- twice); ttl and permits go in as the client wrote them (checked above as plain digits)
    local granted = math.max((stored or 0) + 1, micros)
    local fence = string.format('%d', granted)
    redis.call('HSET', data, 'fence', soleRecord(fence, token, micros - granted, ARGV[6], ARGV[4], owner),
      'kind', kind, 'limit', ARGV[5])
    redis.call('PEXPIRE', data, string.format('%d', ttl + KEY_MARGIN_MS))
    return { 1, fence }
  end
end

--- @include "includes/name"
--- @include "includes/unfold-sole"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"

local run = newRun(kind, 12, now, micros, listens)

-- Every acquire records the kind and limit its caller believes in (shown by inspect). A
-- path that writes the data hash anyway stores them in the same HSET.
local function storeKindAndLimit()
  -- two new fields: the hash did not exist, so it has no TTL yet either
  if redis.call('HSET', D, 'kind', kind, 'limit', int(limit)) == 2 then run.grew = true end
end

local function queueFor()
  local position = run.queued > 0 and redis.call('ZRANK', Q, token)
  if not position then
    run.queued = run.queued + redis.call('ZADD', Q, redis.call('HINCRBY', D, 'seq', 1), token)
    run.publish('waiting', nil, permits, owner)
    position = redis.call('ZRANK', Q, token)
  end
  local record = int(permits) .. '|' .. int(limit) .. '|' .. int(claimTtl) .. '|' .. clientId .. '|' .. owner
  redis.call('HSET', D, 'w:' .. token, record, 'kind', kind, 'limit', int(limit))
  redis.call('ZADD', W, run.now + waiterTtl, token)
  run.grew = true
  local wait = position == 0 and untilEarliestExpiry(run) or -1
  return { 0, position, wait >= 0 and math.ceil(wait * 1000) or -1, run.micros }
end

local function decide()
  local heldUntil = run.holders > 0 and redis.call('ZSCORE', H, token)
  local held = heldUntil and parseHolder(redis.call('HGET', D, 'h:' .. token))
  if held then
    local expiresAt = run.now + ttl
    redis.call('ZADD', H, expiresAt, token)
    if expiresAt > tonumber(heldUntil) then grow(run, expiresAt) end
    storeKindAndLimit()
    return { 1, held.fence }
  end
  local head = run.queued > 0 and queueHead() or nil
  if not head or head == token then
    counters(run)
    if run.used + permits <= limit then
      local fence = grant(run, token, permits, owner, run.now + ttl, kind, limit)
      run.publish('acquired', fence, permits, owner, ttl)
      if head then
        removeWaiter(run, token)
        drain(run, nil)
      end
      return { 1, fence }
    end
  end
  if ARGV[7] == '1' then return queueFor() end
  storeKindAndLimit()
  return { 0, -1, -1, run.micros }
end

local soleHolder = parseSole(sole)
if soleHolder then unfoldSole(H, D, soleHolder, now) end
run.holders, run.queued = redis.call('ZCARD', H), redis.call('ZCARD', Q)
if purge(run) then drain(run, token) end
local result = decide()
touchKeys(run)
return result
