--[[
  purge(keys, now): drops holders and waiters whose expiry has passed (an expiry equal to
  now counts as passed, on every backend). Runs first in every script, so expiry needs no
  timer on the server: it takes effect at the next operation on the name.
]]
--- @include "records"

local function purge(keys, now)
  local holders = redis.call('ZRANGEBYSCORE', keys[1], '-inf', now)
  for _, token in ipairs(holders) do removeHolder(keys, token) end
  local waiters = redis.call('ZRANGEBYSCORE', keys[3], '-inf', now)
  for _, token in ipairs(waiters) do removeWaiter(keys, token) end
end
