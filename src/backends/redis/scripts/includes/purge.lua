--[[
  purge(keys, now, publish): drops holders and waiters whose expiry has passed (an expiry
  equal to now counts as passed, on every backend), publishing `expired` for each holder and
  `left` for each waiter. Runs first in every script, so expiry needs no timer on the server:
  it takes effect at the next operation on the name (or its sweep).
]]
--- @include "records"

local function purge(keys, now, publish)
  local holders = redis.call('ZRANGEBYSCORE', keys[1], '-inf', now)
  for _, token in ipairs(holders) do
    local holder = readHolder(keys, token)
    removeHolder(keys, token)
    if holder then publish('expired', holder.fence, holder.permits, holder.owner) end
  end
  local waiters = redis.call('ZRANGEBYSCORE', keys[3], '-inf', now)
  for _, token in ipairs(waiters) do
    local waiter = readWaiter(keys, token)
    removeWaiter(keys, token)
    if waiter then publish('left', nil, waiter.permits, waiter.owner) end
  end
end
