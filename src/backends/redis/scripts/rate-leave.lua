--[[
  A rate-limiter waiter gives up: it leaves the queue (`left` is published), and if it was
  the head, the new head is woken to ask in turn. Key expiry is left as rate-take.lua set it:
  leaving only shortens how long the state matters.

  KEYS[1] log  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in rate-take.lua)
  ARGV[1] prefix (of the channels, as in rate-take.lua)    ARGV[2] name
  ARGV[3] token

  Returns 1 when the token was queued, else 0.
]]
--- @include "includes/stable-slot"
--- @include "includes/now"
--- @include "includes/events"
--- @include "includes/rate-queue"

local token, wakePrefix = ARGV[3], ARGV[1] .. 'wake:'
local now = serverTime(3)
local publish = newEvents(KEYS[4], ARGV[1], ARGV[2], 'rate-limiter', now)
purgeRateWaiters(KEYS, now, wakePrefix, token, publish)
if not redis.call('ZSCORE', KEYS[2], token) then return 0 end
local head = rateHead(KEYS)
leaveRateQueue(KEYS, token, publish)
if head == token then wakeNewHead(KEYS, token, wakePrefix, nil) end
return 1
