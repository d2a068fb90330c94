--[[
  Removes a token as holder or waiter, then hands freed permits to the queue
  (release-and-hand-off in one round trip). Never touches any other token.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] token    ARGV[2] wake channel prefix

  Returns 1 when the token was a holder, 0 otherwise (a waiter that left, or unknown).
]]
--- @include "includes/now"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"

local token, wakePrefix = ARGV[1], ARGV[2]
local now, nowMicros = serverTime()
purge(KEYS, now)
local result = 0
if redis.call('ZSCORE', KEYS[1], token) then
  removeHolder(KEYS, token)
  result = 1
else
  -- a departing waiter may have been the head that blocked smaller requests behind it
  removeWaiter(KEYS, token)
end
drain(KEYS, now, nowMicros, wakePrefix, nil)
touchKeys(KEYS, now)
return result
