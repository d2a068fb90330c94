--[[
  drain(run, quietToken): while the head of the queue fits (used + its permits <= its limit)
  it is granted for its claim window (the claimTtl its client sent), `handoff` is published and
  its client is woken (includes/wake.lua) with `token|fence|serverMicros` (this run's clock,
  integer µs). Stops at the first head that does not fit: a large request is never
  overtaken by smaller ones behind it (strict FIFO).
  quietToken (or nil) is granted without a wake-up: it is the caller of this very script,
  which learns the outcome from the reply.
  A new head that does not fit (one that was not the head when the script started:
  run.headBefore in includes/lock.lua) is woken too, with `token|retryAfter`: the ms until the
  earliest holder expires, when it asks again (only the head is told that); otherwise it would
  notice a crashed holder only at its safety timer. Sent in the wake-up, so under contention a
  hand-off does not cost the next head a round trip to learn it. A grant from the queue is a
  `handoff` whoever's operation ran the drain, so the events do not depend on which client
  noticed an expiry.
  Only freeing can make a head fit, and every script drains after it frees, so a script that
  freed nothing (and did not grant its caller from the head) need not drain.
]]
--- @include "lock"
--- @include "grant"
--- @include "wake"

-- The waiter's client, at the address its record names (includes/wake.lua); H is `<prefix>{<name>}:h`.
local function wakeWaiter(waiter, message)
  wakeClient(PREFIX .. 'wake:', string.sub(H, 1, -3), waiter.clientId, message)
end

local function drain(run, quietToken)
  -- When noteHead() reads the head now, the first turn of the loop need not read it again.
  local noted = run.headBefore == nil
  noteHead(run)
  while run.queued > 0 do
    local head = noted and run.headBefore or queueHead()
    noted = false
    if not head then
      run.queued = 0
      return
    end
    -- the waiter's record, and the counters in the same call when not loaded yet
    local waiter = parseWaiter(counters(run, 'w:' .. head))
    if not waiter then
      -- a queue entry without its record cannot be granted; dropping it unblocks the rest
      removeWaiter(run, head)
    else
      if run.used + waiter.permits > waiter.limit then
        if head ~= run.headBefore and head ~= quietToken then
          local retryAfter = untilEarliestExpiry(run)
          wakeWaiter(waiter, retryAfter >= 0 and head .. '|' .. int(math.ceil(retryAfter)) or head)
        end
        return
      end
      local fence = grant(run, head, waiter.permits, waiter.owner, run.now + waiter.claimTtl)
      removeWaiter(run, head)
      run.publish('handoff', fence, waiter.permits, waiter.owner, waiter.claimTtl)
      if head ~= quietToken then
        wakeWaiter(waiter, head .. '|' .. fence .. '|' .. int(run.micros))
      end
    end
  end
end
