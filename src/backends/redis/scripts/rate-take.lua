--[[
  One rate-limiter decision, or a waiter's turn in the limiter's FIFO queue (one round trip).
  The algorithms are in includes/rate-algorithms.lua, the queue in includes/rate-queue.lua.

  KEYS[1] log      ZSET admission id -> admission ms (sliding window)
  KEYS[2] queue    ZSET waiter token -> arrival seq
  KEYS[3] waiters  ZSET waiter token -> entry expiresAt (ms)
  KEYS[4] data     HASH used, seq, tat, win, count, w:<token> = cost|clientId

  ARGV[1] prefix (of the channels: <prefix>wake:<clientId>, <prefix>ev:<name>)
  ARGV[2] name
  ARGV[3] algorithm ('sliding-window' | 'token-bucket' | 'fixed-window')
  ARGV[4] limit    ARGV[5] window (ms)   ARGV[6] burst (token bucket; else ignored)
  ARGV[7] cost     ARGV[8] token ('' for a try)          ARGV[9] waiterTtl (ms)
  ARGV[10] clientId

  A try is admitted only when nobody waits and the cost fits; a waiter only when it is the
  head (or nobody waits) and the cost fits, and then the next head is woken. A waiter that
  does not fit joins or refreshes the queue. Every refusal publishes `rate-limited` (then
  `waiting` for a waiter that joined); waiters whose entry expired are `left`; admissions
  publish nothing.
  Returns { allowed (1|0), remaining, retryAfter, resetIn, at, position, retryAfterMicros,
  serverMicros }: retryAfter is 0 when allowed; for the head, ms until its cost fits; for a
  waiter behind it, -1; for a refused try, ms until its cost and all the queued costs would fit
  (at least 1); whole ms, rounded up. at is the server's ms; position is the 0-based place of a
  queued waiter, else -1. retryAfterMicros is retryAfter before rounding, in µs (rounded up;
  -1 where retryAfter is), and serverMicros the script's clock in µs (includes/now.lua): the
  head waiter asks again exactly then, counted from its request, as a lock's waiter does
  (acquire.lua), instead of a whole ms after the reply reached it.
  {ERR_ARGS} | {ERR_COST} when refused; nothing changed.
]]
--- @include "includes/stable-slot"
--- @include "includes/args"
--- @include "includes/now"
--- @include "includes/events"
--- @include "includes/rate-queue"
--- @include "includes/rate-algorithms"

local IDLE_MS = 60000

local algorithm, token, clientId, wakePrefix = ARGV[3], ARGV[8], ARGV[10], ARGV[1] .. 'wake:'
local limit, window, burst = positiveInt(ARGV[4]), positiveInt(ARGV[5]), positiveInt(ARGV[6])
local cost, waiterTtl = positiveInt(ARGV[7]), positiveInt(ARGV[9])
if not (limit and window and cost and waiterTtl) or clientId == '' or string.find(clientId, '|', 1, true) then
  return { ERR_ARGS }
end
local capacity = limit
if algorithm == 'token-bucket' then
  if not burst then return { ERR_ARGS } end
  capacity = burst
elseif algorithm ~= 'sliding-window' and algorithm ~= 'fixed-window' then
  return { ERR_ARGS }
end
-- a head that can never fit would block the queue until its waiter expires
if cost > capacity then return { ERR_COST } end

local function open(now, nowMicros)
  if algorithm == 'sliding-window' then return slidingWindow(KEYS, now, nowMicros, limit, window) end
  if algorithm == 'token-bucket' then return tokenBucket(KEYS, now, limit, window, burst) end
  return fixedWindow(KEYS, now, limit, window)
end

-- Every key lives until its state stops mattering, plus IDLE_MS: nothing lives forever.
local function touchRateKeys(now, stateUntil)
  local lastWaiter = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')[2]
  local latest = math.max(stateUntil, tonumber(lastWaiter or '0'))
  local ttl = int(math.max(0, math.ceil(latest - now)) + IDLE_MS)
  for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, ttl) end
end

-- A refusal: the try's exact wait, or the waiter's place and exact wait in the queue (-1:
-- behind others, so unknown).
local function refuse(limiter, now, wait, publish)
  publish('rate-limited', nil, cost)
  if token == '' then return -1, limiter.wait(cost + queuedCost(KEYS)) end
  local position = queueRateWaiter(KEYS, token, now, waiterTtl, cost, clientId, publish)
  return position, position == 0 and wait or -1
end

local now, nowMicros = serverTime(10)
local publish = newEvents(KEYS[4], ARGV[1], ARGV[2], 'rate-limiter', now)
local limiter = open(now, nowMicros)
purgeRateWaiters(KEYS, now, wakePrefix, token, publish)
local head = rateHead(KEYS)
local wait = limiter.wait(cost)
local result
if wait == 0 and (not head or (token ~= '' and head == token)) then
  limiter.admit(cost)
  if head then
    removeRateWaiter(KEYS, token)
    wakeNewHead(KEYS, token, wakePrefix, nil)
  end
  result = { 1, limiter.remaining(), 0, limiter.resetIn(), math.floor(now), -1, 0, nowMicros }
else
  local position, exact = refuse(limiter, now, wait, publish)
  -- a try always gets a time (at least 1 ms); a head may fit at once (0) when its own ask
  -- came behind another waiter's that has since gone
  local retryAfter = exact < 0 and -1 or (token == '' and math.max(1, wholeMs(exact)) or wholeMs(exact))
  local micros = exact < 0 and -1 or math.ceil(math.max(0, exact) * 1000)
  result = { 0, limiter.remaining(), retryAfter, limiter.resetIn(), math.floor(now), position, micros, nowMicros }
end
touchRateKeys(now, limiter.stateUntil())
return result
