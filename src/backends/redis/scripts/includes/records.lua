--[[
  The per-token records in the data hash (KEYS[4]) and the helpers that keep them consistent
  with the holder / queue / waiter sorted sets (KEYS[1..3]).

  h:<token> = permits|fence|owner
  w:<token> = permits|limit|claimTtl|clientId|owner
  owner is free JSON text that may contain '|', so it always comes last. claimTtl is
  min(ttl, waiterTtl): how long a hand-off grant lasts before the woken waiter confirms it.
  Numbers are written with string.format because Lua's tostring keeps only 14 digits.
]]
local function int(n)
  return string.format('%.0f', n)
end

local function readHolder(keys, token)
  local raw = redis.call('HGET', keys[4], 'h:' .. token)
  if not raw then return nil end
  local permits, fence, owner = string.match(raw, '^(%d+)|(%d+)|(.*)$')
  if not permits then return nil end
  return { permits = tonumber(permits), fence = fence, owner = owner }
end

local function readWaiter(keys, token)
  local raw = redis.call('HGET', keys[4], 'w:' .. token)
  if not raw then return nil end
  local permits, limit, claimTtl, clientId, owner =
    string.match(raw, '^(%d+)|(%d+)|(%d+)|([^|]*)|(.*)$')
  if not permits then return nil end
  return {
    permits = tonumber(permits), limit = tonumber(limit), claimTtl = tonumber(claimTtl),
    clientId = clientId, owner = owner,
  }
end

-- Permits in use. An empty holder set means none, whatever the counter says, so a counter
-- that drifted (a record lost by hand-editing) heals itself.
local function usedPermits(keys)
  if redis.call('ZCARD', keys[1]) == 0 then
    redis.call('HDEL', keys[4], 'used')
    return 0
  end
  return tonumber(redis.call('HGET', keys[4], 'used') or '0')
end

local function removeHolder(keys, token)
  local holder = readHolder(keys, token)
  if holder then redis.call('HINCRBY', keys[4], 'used', -holder.permits) end
  redis.call('ZREM', keys[1], token)
  redis.call('HDEL', keys[4], 'h:' .. token)
end

local function removeWaiter(keys, token)
  redis.call('ZREM', keys[2], token)
  redis.call('ZREM', keys[3], token)
  redis.call('HDEL', keys[4], 'w:' .. token)
end
