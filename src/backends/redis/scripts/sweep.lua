--[[
  Purges and drains one name now, so that expiries are reported (and hand-offs happen) even
  when no client touches the name; a watcher calls it when a grant is due to run out.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] wake channel prefix    ARGV[2] event channel prefix    ARGV[3] name

  Publishes what purge and drain report (includes/events.lua).
  Returns ms until the earliest remaining holder or waiter expiry, or -1 when none remains.
  A name with nothing in it is left untouched, so sweeping it does not keep its keys alive.
]]
--- @include "includes/now"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"
--- @include "includes/events"

if redis.call('EXISTS', KEYS[1], KEYS[3]) == 0 then return -1 end
local wakePrefix = ARGV[1]
local now, nowMicros = serverTime()
local publish = newEvents(ARGV[2], ARGV[3], storedKind(KEYS), now)
local headBefore = queueHead(KEYS)
purge(KEYS, now, publish)
drain(KEYS, now, nowMicros, wakePrefix, nil, publish, headBefore)
touchKeys(KEYS, now)
local holder = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
local waiter = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')[2]
if not holder and not waiter then return -1 end
local earliest = math.min(tonumber(holder or waiter), tonumber(waiter or holder))
return math.max(0, math.ceil(earliest - now))
