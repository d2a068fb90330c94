--[[
  anyListener(channel): whether an event published on channel would reach anyone: a client
  with a pattern subscription (PUBSUB NUMPAT: every watch is a PSUBSCRIBE) or a plain
  subscription to channel itself (PUBSUB NUMSUB). Both are O(1) and allowed in scripts.
  No subscription changes while a script runs, so in a batch (SHARED, see includes/now.lua)
  NUMPAT is asked once for all its operations.
]]
local function anyListener(channel)
  local patterns = SHARED and SHARED.patterns
  if not patterns then
    patterns = redis.call('PUBSUB', 'NUMPAT')
    if SHARED then SHARED.patterns = patterns end
  end
  return patterns > 0 or redis.call('PUBSUB', 'NUMSUB', channel)[2] > 0
end
