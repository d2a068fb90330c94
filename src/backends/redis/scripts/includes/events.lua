--[[
  Change events, published by the same script run (the same atomic step) as the change, on
  channel <event channel base><name>, as compact JSON:
    { t = type, n = name, k = kind, f = fence or '', p = permits, o = owner,
      a = server ms since the epoch, e = ms until the grant expires, or -1 }
  newEvents(channelBase, name, kind, now) returns publish(type, fence, permits, owner,
  expiresIn) for one run; fence, owner and expiresIn may be nil.
  Publishing to a channel nobody listens to costs one small command and nothing more.
]]
local function newEvents(channelBase, name, kind, now)
  local channel, at = channelBase .. name, math.floor(now)
  return function(type, fence, permits, owner, expiresIn)
    local event = {
      t = type, n = name, k = kind, f = fence or '', p = permits, o = owner or '', a = at,
      e = expiresIn and math.ceil(expiresIn) or -1,
    }
    redis.call('PUBLISH', channel, cjson.encode(event))
  end
end

-- The kind a name was last acquired as (its holders and waiters agree on it).
local function storedKind(keys)
  return redis.call('HGET', keys[4], 'kind') or 'mutex'
end
