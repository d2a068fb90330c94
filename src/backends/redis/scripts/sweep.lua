--[[
  Purges and drains one name now, so that expiries are reported (and hand-offs happen) even
  when no client touches the name; a watcher calls it when a grant is due to run out.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] prefix (of the channels)      ARGV[2] name

  Publishes what purge and drain report (includes/events.lua).
  Returns ms until the earliest remaining holder or waiter expiry, or -1 when none remains.
  A name with nothing in it is left untouched, so sweeping it does not keep its keys alive.
]]
--- @include "includes/stable-slot"
--- @include "includes/name"
--- @include "includes/sole"
--- @include "includes/unfold-sole"

-- A name without sorted sets is idle or has a sole holder (includes/sole.lua): one that lives
-- is left as it is (its expiry is the answer); one that expired is unfolded, to be purged and
-- reported below like any other.
local now, micros = nil, nil
if redis.call('EXISTS', H, W) == 0 then
  local sole = parseSole(redis.call('HGET', D, 'fence'))
  if not sole then return -1 end
  now, micros = serverTime(2)
  if sole.expiresAt > now then return math.ceil(sole.expiresAt - now) end
  unfoldSole(H, D, sole, now)
end

--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"

local run = newRun(nil, 2, now, micros)
run.holders, run.queued = redis.call('ZCARD', H), redis.call('ZCARD', Q)
if purge(run) then drain(run, nil) end
touchKeys(run)
local holder = run.holders > 0 and redis.call('ZRANGE', H, 0, 0, 'WITHSCORES')[2]
local waiter = run.queued > 0 and redis.call('ZRANGE', W, 0, 0, 'WITHSCORES')[2]
if not holder and not waiter then return -1 end
local earliest = math.min(tonumber(holder or waiter), tonumber(waiter or holder))
return math.max(0, math.ceil(earliest - run.now))
