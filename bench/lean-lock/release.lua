--[[
  A bench floor, not a lock holdfast ships (floors.ts): the leanest release of a sole holder
  that keeps the contract (acquire.lua beside it has the layout): only the token's own hold is
  removed, a name with waiters would hand off (here: refuses) and a watched one publishes
  `released` (a bare event here). The fence stays in the data hash for the next holder. A hold
  past its expiry is released here as if it held, where holdfast reports it lost: the floor
  only ever releases a hold it just took.

  KEYS[1] queue   KEYS[2] data   ARGV[1] events channel   ARGV[2] token
  Returns 1 released, 0 not the holder, -1 others queued.
]]
local held = redis.call('HGET', KEYS[2], 's')
if not held or string.sub(held, 1, #ARGV[2] + 1) ~= ARGV[2] .. '|' then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
local watched = redis.call('PUBSUB', 'NUMPAT') > 0 or redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2] > 0
redis.call('HDEL', KEYS[2], 's')
if watched then redis.call('PUBLISH', ARGV[1], 'released|' .. ARGV[2]) end
return 1
