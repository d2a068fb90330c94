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

if redis.call('EXISTS', H, W) == 0 then return -1 end

--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"

local run = newRun(nil, 2)
run.holders, run.queued = redis.call('ZCARD', H), redis.call('ZCARD', Q)
if purge(run) then drain(run, nil) end
touchKeys(run)
local holder = run.holders > 0 and redis.call('ZRANGE', H, 0, 0, 'WITHSCORES')[2]
local waiter = run.queued > 0 and redis.call('ZRANGE', W, 0, 0, 'WITHSCORES')[2]
if not holder and not waiter then return -1 end
local earliest = math.min(tonumber(holder or waiter), tonumber(waiter or holder))
return math.max(0, math.ceil(earliest - run.now))
