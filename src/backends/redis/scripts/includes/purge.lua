--[[
  purge(run): drops holders and waiters whose expiry has passed (an expiry equal to now counts
  as passed, on every backend), publishing `expired` for each holder and `left` for each
  waiter, in expiry order. Runs first in every script, so expiry needs no timer on the server:
  it takes effect at the next operation on the name (or its sweep). Returns true when it
  removed anything: only then can the queue's head have changed or fit.
  purgeHolders(run) / purgeWaiters(run) are its halves, for a script that already knows one of
  them has nothing to do. Records are read only when an event or the `used` counter needs them.
]]
--- @include "lock"

local function purgeHolders(run)
  if run.holders == 0 then return false end
  local gone = redis.call('ZRANGEBYSCORE', H, '-inf', run.now)
  if #gone == 0 then return false end
  local records = (#gone < run.holders or run.listening()) and readRecords('h:', gone, parseHolder) or {}
  redis.call('ZREMRANGEBYSCORE', H, '-inf', run.now)
  deleteRecords('h:', gone)
  local permits = 0
  for i = 1, #gone do
    local holder = records[i]
    if holder then
      permits = permits + holder.permits
      run.publish('expired', holder.fence, holder.permits, holder.owner)
    end
  end
  holdersLeft(run, #gone, permits)
  return true
end

local function purgeWaiters(run)
  if run.queued == 0 then return false end
  local gone = redis.call('ZRANGEBYSCORE', W, '-inf', run.now)
  if #gone == 0 then return false end
  noteHead(run)
  local records = run.listening() and readRecords('w:', gone, parseWaiter) or {}
  for first = 1, #gone, BATCH do
    run.queued = run.queued - redis.call('ZREM', Q, unpack(gone, first, math.min(first + BATCH - 1, #gone)))
  end
  redis.call('ZREMRANGEBYSCORE', W, '-inf', run.now)
  deleteRecords('w:', gone)
  for i = 1, #gone do
    local waiter = records[i]
    if waiter then run.publish('left', nil, waiter.permits, waiter.owner) end
  end
  return true
end

local function purge(run)
  local holdersGone = purgeHolders(run)
  return purgeWaiters(run) or holdersGone
end
