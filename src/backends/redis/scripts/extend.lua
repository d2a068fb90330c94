--[[
  Re-arms a holder's TTL from the server's now. One call per lease; renewals of many leases
  are pipelined EVALSHAs of this script, so each keeps to its own hash slot.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] prefix (of the channels)      ARGV[2] name
  ARGV[3] token    ARGV[4] ttl (ms)

  Publishes what purge and drain report (includes/events.lua); a renewal itself is no event.
  Returns 1 when the token still holds (expiry now + ttl), 0 when it does not,
  ERR_ARGS for a bad ttl.
]]
--- @include "includes/stable-slot"
--- @include "includes/args"
--- @include "includes/name"
--- @include "includes/sole"
--- @include "includes/unfold-sole"

local token, ttl = ARGV[3], positiveInt(ARGV[4])
if not ttl then return ERR_ARGS end
local now, micros = serverTime(4)
local expiresAt = now + ttl

-- The sole holder (includes/sole.lua) re-armed in place, its data hash kept as long as the new
-- expiry needs; any other name in that form is unfolded and goes on in the general form.
local sole = parseSole(redis.call('HGET', D, 'fence'))
if sole then
  if sole.expiresAt > now then
    if sole.token ~= token then return 0 end
    local permits, owner = soleHolding(sole)
    redis.call('HSET', D, 'fence', soleRecord(sole.fence, token, micros - sole.fence, ARGV[4], permits, owner))
    if expiresAt > sole.expiresAt then redis.call('PEXPIRE', D, int(ttl + KEY_MARGIN_MS)) end
    return 1
  end
  unfoldSole(H, D, sole, now)
end

local heldUntil = redis.call('ZSCORE', H, token)
local holders, queued = redis.call('ZCARD', H), redis.call('ZCARD', Q)
-- purge removes only expiries <= now, and drain removes no holder (it may add the caller: below)
-- (a score read is a string; adding 0 converts it once, where tonumber() parses it twice)
local holds = heldUntil and heldUntil + 0 > now

if holds and holders == 1 and queued == 0 then
  -- The common case: the only holder, unexpired, and nobody waits: nothing to purge or hand
  -- off, and the latest expiry is this one (a shorter lease needs no longer-lived keys).
  redis.call('ZADD', H, expiresAt, token)
  if expiresAt > heldUntil + 0 then
    local margin = int(ttl + KEY_MARGIN_MS)
    redis.call('PEXPIRE', H, margin)
    redis.call('PEXPIRE', D, margin)
  end
  return 1
end

--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"

local run = newRun(nil, 4, now, micros)
run.holders, run.queued = holders, queued
local freed
if holds and run.holders == 1 then
  freed = purgeWaiters(run) -- the only holder has not expired
else
  freed = purge(run)
end
if freed then drain(run, nil) end
if not holds and run.fresh > 0 then
  -- the drain this call's purge set off may have handed the permits to the caller itself
  heldUntil = redis.call('ZSCORE', H, token)
  holds = heldUntil and true
end
if holds then
  redis.call('ZADD', H, expiresAt, token)
  if expiresAt > tonumber(heldUntil) then grow(run, expiresAt) end
end
touchKeys(run)
return holds and 1 or 0
