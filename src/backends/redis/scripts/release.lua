--[[
  Removes a token as holder or waiter, then hands freed permits to the queue
  (release-and-hand-off in one round trip). Never touches any other token.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] token    ARGV[2] wake channel prefix
  ARGV[3] event channel prefix    ARGV[4] name

  Publishes `released` (a holder) or `left` (a queued waiter), plus what purge and drain
  report (includes/events.lua).
  Returns 1 when the token was a holder, 0 otherwise (a waiter that left, or unknown).
]]
--- @include "includes/now"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"
--- @include "includes/events"

local token, wakePrefix = ARGV[1], ARGV[2]
local now, nowMicros = serverTime()
local publish = newEvents(ARGV[3], ARGV[4], storedKind(KEYS), now)
local headBefore = queueHead(KEYS)
purge(KEYS, now, publish)
local result = 0
if redis.call('ZSCORE', KEYS[1], token) then
  local holder = readHolder(KEYS, token)
  removeHolder(KEYS, token)
  if holder then publish('released', holder.fence, holder.permits, holder.owner) end
  result = 1
else
  -- a departing waiter may have been the head that blocked smaller requests behind it
  local waiter = redis.call('ZSCORE', KEYS[2], token) and readWaiter(KEYS, token)
  removeWaiter(KEYS, token)
  if waiter then publish('left', nil, waiter.permits, waiter.owner) end
end
drain(KEYS, now, nowMicros, wakePrefix, nil, publish, headBefore)
touchKeys(KEYS, now)
return result
