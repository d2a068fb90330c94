--[[
  The state of one name, read-only: entries past their expiry are skipped, not purged, so
  looking never changes anything (and works on a read replica).

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)

  Returns nil when nothing holds or waits, else
    { kind, limit, holderCount, (fence, permits, expiresIn ms, owner) * holderCount,
      waiterCount, (permits, owner) * waiterCount }
  with kind and limit '' when unknown, holders by expiry, waiters in queue order.
]]
--- @include "includes/now"
--- @include "includes/records"
--- @include "includes/sole"

local function readHolder(token)
  return parseHolder(redis.call('HGET', KEYS[4], 'h:' .. token))
end

local function readWaiter(token)
  return parseWaiter(redis.call('HGET', KEYS[4], 'w:' .. token))
end

local now = serverTime(0)
local holders, waiters = {}, {}
-- a sole holder (includes/sole.lua): a name in that form has neither sorted set
local sole = parseSole(redis.call('HGET', KEYS[4], 'fence'))
if sole and sole.expiresAt > now then
  local permits, owner = soleHolding(sole)
  table.insert(holders, { sole.fence, permits + 0, math.ceil(sole.expiresAt - now), owner })
end
local scored = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #scored, 2 do
  local expiresAt, holder = tonumber(scored[i + 1]), readHolder(scored[i])
  if expiresAt > now and holder then
    table.insert(holders, { holder.fence, holder.permits, math.ceil(expiresAt - now), holder.owner })
  end
end
for _, token in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do
  local expiresAt, waiter = redis.call('ZSCORE', KEYS[3], token), readWaiter(token)
  if expiresAt and tonumber(expiresAt) > now and waiter then
    table.insert(waiters, { waiter.permits, waiter.owner })
  end
end
if #holders == 0 and #waiters == 0 then return false end

local meta = redis.call('HMGET', KEYS[4], 'kind', 'limit')
local reply = { meta[1] or '', meta[2] or '', #holders }
for _, h in ipairs(holders) do
  for _, v in ipairs(h) do table.insert(reply, v) end
end
table.insert(reply, #waiters)
for _, w in ipairs(waiters) do
  for _, v in ipairs(w) do table.insert(reply, v) end
end
return reply
