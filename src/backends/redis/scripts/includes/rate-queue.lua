--[[
  The FIFO queue of a rate limiter's waiters.

  keys[2] queue    ZSET token -> arrival seq
  keys[3] waiters  ZSET token -> entry expiresAt (ms, server clock)
  keys[4] data     HASH w:<token> = cost|clientId, seq

  A waiter is woken (includes/wake.lua, with its token) whenever it becomes the head, so
  it asks at once instead of at its safety timer. quietToken (or nil) is never woken: it is
  the caller of the running script, which learns its turn from the reply.
  publish is the script's event publisher (includes/events.lua): joining the queue is
  `waiting`, leaving it other than by admission is `left`, with permits = cost.
]]
--- @include "wake"

local function rateHead(keys)
  return redis.call('ZRANGE', keys[2], 0, 0)[1]
end

-- cost and clientId of a queued token, or nil.
local function readRateWaiter(keys, token)
  local raw = redis.call('HGET', keys[4], 'w:' .. token)
  if not raw then return nil end
  local cost, clientId = string.match(raw, '^(%d+)|(.+)$')
  return cost and { cost = tonumber(cost), clientId = clientId }
end

local function removeRateWaiter(keys, token)
  redis.call('ZREM', keys[2], token)
  redis.call('ZREM', keys[3], token)
  redis.call('HDEL', keys[4], 'w:' .. token)
end

-- Takes token out of the queue (it gave up, or its entry expired) and reports it.
local function leaveRateQueue(keys, token, publish)
  local waiter = readRateWaiter(keys, token)
  removeRateWaiter(keys, token)
  if waiter then publish('left', nil, waiter.cost) end
end

-- Wakes the head when it is not `before` (the head before the change) nor quietToken.
local function wakeNewHead(keys, before, wakePrefix, quietToken)
  local head = rateHead(keys)
  if not head or head == before or head == quietToken then return end
  local waiter = readRateWaiter(keys, head)
  -- keys[1] is `<prefix>{<name>}:rl`
  if waiter then wakeClient(wakePrefix, string.sub(keys[1], 1, -4), waiter.clientId, head) end
end

-- Drops waiters whose entry expired (an expiry equal to now counts as passed).
local function purgeRateWaiters(keys, now, wakePrefix, quietToken, publish)
  local expired = redis.call('ZRANGEBYSCORE', keys[3], '-inf', now)
  if #expired == 0 then return end
  local before = rateHead(keys)
  for _, token in ipairs(expired) do leaveRateQueue(keys, token, publish) end
  wakeNewHead(keys, before, wakePrefix, quietToken)
end

-- The total cost of everyone queued.
local function queuedCost(keys)
  local total = 0
  for _, token in ipairs(redis.call('ZRANGE', keys[2], 0, -1)) do
    local waiter = readRateWaiter(keys, token)
    if waiter then total = total + waiter.cost end
  end
  return total
end

-- Joins the queue (keeping the place on a refresh); returns the 0-based position.
local function queueRateWaiter(keys, token, now, waiterTtl, cost, clientId, publish)
  if not redis.call('ZSCORE', keys[2], token) then
    redis.call('ZADD', keys[2], redis.call('HINCRBY', keys[4], 'seq', 1), token)
    publish('waiting', nil, cost)
  end
  redis.call('ZADD', keys[3], now + waiterTtl, token)
  redis.call('HSET', keys[4], 'w:' .. token, string.format('%d|%s', cost, clientId))
  return redis.call('ZRANK', keys[2], token)
end
