--[[
  Removes a token as holder or waiter, then hands freed permits to the queue
  (release-and-hand-off in one round trip). Never touches any other token.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] prefix (of the channels)      ARGV[2] name
  ARGV[3] token

  Publishes `released` (a holder) or `left` (a queued waiter), plus what purge and drain
  report (includes/events.lua).
  Returns 1 when the token was a holder and nobody was queued, 2 when it was a holder and
  others were queued (a release that may hand off: the client asks for the wake-up to be
  written before its reply next time, backend.ts), 0 otherwise (a waiter that left, or
  unknown).
]]
--- @include "includes/stable-slot"
--- @include "includes/now"
--- @include "includes/listeners"
--- @include "includes/sole"

local token = ARGV[3]
local now, micros = serverTime(3)
local listens = nil

-- The common case: the sole holder (includes/sole.lua) leaves and nobody watches, so the name
-- goes idle: its `fence` field goes back to the bare fence, for the next holder. A name in that
-- form has no waiter, so another token has nothing to release there while the holder lives.
-- Anything else (a watched name, an expired holder) unfolds it and goes on in the general form.
local sole = parseSole(redis.call('HGET', KEYS[4], 'fence'))
if sole and sole.expiresAt > now then
  if sole.token ~= token then return 0 end
  listens = anyListener(ARGV[1] .. 'ev:' .. ARGV[2])
  if not listens then
    redis.call('HSET', KEYS[4], 'fence', sole.fence)
    return 1
  end
end

--- @include "includes/unfold-sole"

if sole then unfoldSole(KEYS[1], KEYS[4], sole, now) end

local heldUntil = redis.call('ZSCORE', KEYS[1], token)
local holders, queued = redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2])
-- purge removes only expiries <= now, and nothing else here removes a holder before it
-- (a score read is a string; adding 0 converts it once, where tonumber() parses it twice)
local holds = heldUntil and heldUntil + 0 > now

-- The general form's common case: the only holder leaves, nobody waits and nobody watches, so
-- the name goes idle: the sorted sets go and the data hash keeps its fence (as in
-- includes/touch-keys.lua). Like acquire.lua's, it comes before the includes it does not need.
-- (A watched name takes the general path below, which does the same and publishes `released`.)
if holds and holders == 1 and queued <= 1 then
  if listens == nil then listens = anyListener(ARGV[1] .. 'ev:' .. ARGV[2]) end
  if not listens and queued == 0 then
    redis.call('HDEL', KEYS[4], 'h:' .. token)
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
    return 1
  end
end

--- @include "includes/records"
--- @include "includes/wake"
--- @include "includes/margin"

-- The hand-off: the only holder leaves, one waiter is queued and nobody watches. The general
-- path below would purge no holder (this one holds), find no expired waiter, remove the holder,
-- grant the waiter from the queue for its claim window and wake it, then arm the two keys left
-- (the queue's empty). This writes the same, with the calls the general path makes only when
-- something else is true left out (the holder's record, read for an event or the `used`
-- counter; the head read twice) and none of its functions created (includes/name.lua). A
-- waiter that expired, has no record or does not fit takes the general path, which drops it.
if listens == false and queued == 1 then
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  -- the waiters' set holds exactly the queued tokens, so the head's entry is its only one
  local waiterUntil = head and head ~= token and redis.call('ZSCORE', KEYS[3], head)
  if waiterUntil and waiterUntil + 0 > now then
    local stored = redis.call('HMGET', KEYS[4], 'fence', 'w:' .. head)
    local waiter = parseWaiter(stored[2])
    if waiter and waiter.permits <= waiter.limit then
      -- as includes/grant.lua, with nobody else holding (so `used` is the waiter's permits)
      local fence = int(math.max((stored[1] or 0) + 1, micros))
      local expiresAt = now + waiter.claimTtl
      redis.call('HSET', KEYS[4], 'fence', fence, 'used', int(waiter.permits),
        'h:' .. head, int(waiter.permits) .. '|' .. fence .. '|' .. waiter.owner)
      redis.call('HDEL', KEYS[4], 'h:' .. token, 'w:' .. head)
      -- the holder and the head were the only members of their sets: empty all three in one
      -- call (where three ZREMs were), then record the head as the holder
      redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
      redis.call('ZADD', KEYS[1], expiresAt, head)
      -- includes/drain.lua's wakeWaiter; KEYS[1] is `<prefix>{<name>}:h`
      wakeClient(ARGV[1] .. 'wake:', string.sub(KEYS[1], 1, -3), waiter.clientId, head .. '|' .. fence .. '|' .. int(micros))
      -- includes/touch-keys.lua for one holder this run armed and nobody queued
      local ttl = int(math.max(0, math.ceil(expiresAt - now)) + KEY_MARGIN_MS)
      redis.call('PEXPIRE', KEYS[1], ttl)
      redis.call('PEXPIRE', KEYS[4], ttl)
      return 2
    end
  end
end

--- @include "includes/name"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"

local run = newRun(nil, 3, now, micros, listens)
run.holders, run.queued = holders, queued
local freed
if holds and run.holders == 1 then
  freed = purgeWaiters(run) -- the only holder has not expired
else
  freed = purge(run)
end
local result = 0
if holds then
  local holder = removeHolder(run, token)
  if holder then run.publish('released', holder.fence, holder.permits, holder.owner) end
  freed, result = true, queued > 0 and 2 or 1
elseif run.queued > 0 and redis.call('ZRANK', Q, token) then
  -- a departing waiter may have been the head that blocked smaller requests behind it
  local waiter = run.listening() and parseWaiter(redis.call('HGET', D, 'w:' .. token))
  removeWaiter(run, token)
  if waiter then run.publish('left', nil, waiter.permits, waiter.owner) end
  freed = true
end
if freed then drain(run, nil) end
touchKeys(run)
return result
