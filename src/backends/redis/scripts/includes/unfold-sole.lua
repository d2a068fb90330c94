--[[
  unfoldSole(holders, data, sole, now): a sole holder (includes/sole.lua, parsed) rewritten in
  the general form. Its own include, after the fast paths that do not need it: a run creates a
  function only when it reaches its definition.
]]
--- @include "records"
--- @include "margin"

-- Rewrites a sole holder (parsed) in the general form: the bare fence and `used` back in the
-- data hash, its h:<token> record, and its expiry in the holders' set, whose key then lives
-- as long as the data hash must (includes/touch-keys.lua). An expired holder is unfolded too:
-- the general path's purge then drops it and reports it, as it would any other.
local function unfoldSole(holders, data, sole, now)
  local permits, owner = soleHolding(sole)
  redis.call('HSET', data, 'fence', sole.fence, 'used', permits, 'h:' .. sole.token, permits .. '|' .. sole.fence .. '|' .. owner)
  redis.call('ZADD', holders, sole.expiresAt, sole.token)
  redis.call('PEXPIRE', holders, int(math.max(0, math.ceil(sole.expiresAt - now)) + KEY_MARGIN_MS))
end
