--[[
  A rate-limiter waiter gives up: it leaves the queue (`left` is published), and if it was
  the head, the new head is woken to ask in turn. Key expiry is left as rate-take.lua set it:
  leaving only shortens how long the state matters.

  KEYS[1] log  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in rate-take.lua)
  ARGV[1] token    ARGV[2] wake channel prefix
  ARGV[3] event channel prefix    ARGV[4] name

  Returns 1 when the token was queued, else 0.
]]
--- @include "includes/now"
--- @include "includes/events"
--- @include "includes/rate-queue"

local token, wakePrefix = ARGV[1], ARGV[2]
local now = serverTime()
local publish = newEvents(ARGV[3], ARGV[4], 'rate-limiter', now)
purgeRateWaiters(KEYS, now, wakePrefix, token, publish)
if not redis.call('ZSCORE', KEYS[2], token) then return 0 end
local head = rateHead(KEYS)
leaveRateQueue(KEYS, token, publish)
if head == token then wakeNewHead(KEYS, token, wakePrefix, nil) end
return 1
