--[[
  grant(keys, token, permits, owner, expiresAt, nowMicros): makes token a holder until
  expiresAt and returns its fence as a string (doubles are exact to 2^53, and µs since the
  epoch stay below that for centuries, but only a string survives the trip to JavaScript).
  fence = max(last fence + 1, server µs): above every earlier grant of this name, and still
  above them after the data was lost, because the wall clock has moved on since.
]]
--- @include "records"

local function grant(keys, token, permits, owner, expiresAt, nowMicros)
  local last = tonumber(redis.call('HGET', keys[4], 'fence') or '0')
  local fence = int(math.max(last + 1, nowMicros))
  redis.call('HSET', keys[4], 'fence', fence,
    'h:' .. token, int(permits) .. '|' .. fence .. '|' .. owner)
  redis.call('HINCRBY', keys[4], 'used', permits)
  redis.call('ZADD', keys[1], expiresAt, token)
  removeWaiter(keys, token)
  return fence
end
