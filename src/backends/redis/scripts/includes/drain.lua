--[[
  drain(keys, now, nowMicros, wakePrefix, quietToken, publish): while the head of the queue
  fits (used + its permits <= its limit) it is granted for its claim window, `handoff` is
  published and its client is woken on wakePrefix .. clientId with the token. Stops at the
  first head that does not fit: a large request is never overtaken by smaller ones behind it
  (strict FIFO).
  quietToken (or nil) is granted without a wake-up: it is the caller of this very script,
  which learns the outcome from the reply.
  headBefore is the queue's head when the script started. A new head that does not fit is
  woken too, so it asks again and learns when the current holders expire (only the head is
  told that); otherwise it would notice a crashed holder only at its safety timer. A grant from the queue is a `handoff` whoever's
  operation ran the drain, so the events do not depend on which client noticed an expiry.
]]
--- @include "records"
--- @include "grant"

local function queueHead(keys)
  return redis.call('ZRANGE', keys[2], 0, 0)[1]
end

local function drain(keys, now, nowMicros, wakePrefix, quietToken, publish, headBefore)
  while true do
    local head = redis.call('ZRANGE', keys[2], 0, 0)[1]
    if not head then return end
    local waiter = readWaiter(keys, head)
    if not waiter then
      -- a queue entry without its record cannot be granted; dropping it unblocks the rest
      removeWaiter(keys, head)
    elseif usedPermits(keys) + waiter.permits <= waiter.limit then
      local fence = grant(keys, head, waiter.permits, waiter.owner, now + waiter.claimTtl, nowMicros)
      publish('handoff', fence, waiter.permits, waiter.owner, waiter.claimTtl)
      if head ~= quietToken then
        redis.call('PUBLISH', wakePrefix .. waiter.clientId, head)
      end
    else
      if head ~= headBefore and head ~= quietToken then
        redis.call('PUBLISH', wakePrefix .. waiter.clientId, head)
      end
      return
    end
  end
end
