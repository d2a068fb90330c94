--[[
  Re-arms a holder's TTL from the server's now. One call per lease; renewals of many leases
  are pipelined EVALSHAs of this script, so each keeps to its own hash slot.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] token    ARGV[2] ttl (ms)    ARGV[3] wake channel prefix
  ARGV[4] event channel prefix         ARGV[5] name

  Publishes what purge and drain report (includes/events.lua); a renewal itself is no event.
  Returns 1 when the token still holds (expiry now + ttl), 0 when it does not,
  ERR_ARGS for a bad ttl.
]]
--- @include "includes/args"
--- @include "includes/now"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"
--- @include "includes/events"

local token, ttl, wakePrefix = ARGV[1], positiveInt(ARGV[2]), ARGV[3]
if not ttl then return ERR_ARGS end
local now, nowMicros = serverTime()
local publish = newEvents(ARGV[4], ARGV[5], storedKind(KEYS), now)
local headBefore = queueHead(KEYS)
purge(KEYS, now, publish)
drain(KEYS, now, nowMicros, wakePrefix, nil, publish, headBefore)
local result = 0
if redis.call('ZSCORE', KEYS[1], token) then
  redis.call('ZADD', KEYS[1], now + ttl, token)
  result = 1
end
touchKeys(KEYS, now)
return result
