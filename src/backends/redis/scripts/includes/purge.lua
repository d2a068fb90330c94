--[[
  purge(): drops holders and waiters whose expiry has passed (an expiry equal to now counts
  as passed, on every backend), publishing `expired` for each holder and `left` for each
  waiter, in expiry order. Runs first in every script, so expiry needs no timer on the server:
  it takes effect at the next operation on the name (or its sweep). Returns true when it
  removed anything: only then can the queue's head have changed or fit.
  purgeHolders() / purgeWaiters() are its halves, for a script that already knows one of them
  has nothing to do. Records are read only when an event or the `used` counter needs them.
]]
--- @include "lock"

local function purgeHolders()
  if holders == 0 then return false end
  local gone = redis.call('ZRANGEBYSCORE', H, '-inf', now)
  if #gone == 0 then return false end
  local records = (#gone < holders or listening()) and readRecords('h:', gone, parseHolder) or {}
  redis.call('ZREMRANGEBYSCORE', H, '-inf', now)
  deleteRecords('h:', gone)
  local permits = 0
  for i = 1, #gone do
    local holder = records[i]
    if holder then
      permits = permits + holder.permits
      publish('expired', holder.fence, holder.permits, holder.owner)
    end
  end
  holdersLeft(#gone, permits)
  return true
end

local function purgeWaiters()
  if queued == 0 then return false end
  local gone = redis.call('ZRANGEBYSCORE', W, '-inf', now)
  if #gone == 0 then return false end
  noteHead()
  local records = listening() and readRecords('w:', gone, parseWaiter) or {}
  for first = 1, #gone, BATCH do
    queued = queued - redis.call('ZREM', Q, unpack(gone, first, math.min(first + BATCH - 1, #gone)))
  end
  redis.call('ZREMRANGEBYSCORE', W, '-inf', now)
  deleteRecords('w:', gone)
  for i = 1, #gone do
    local waiter = records[i]
    if waiter then publish('left', nil, waiter.permits, waiter.owner) end
  end
  return true
end

local function purge()
  local holdersGone = purgeHolders()
  return purgeWaiters() or holdersGone
end
