--[[
  A bench floor, not a lock holdfast ships (floors.ts): the leanest acquire of a free name we
  could write that still keeps what DESIGN.md asks of every acquire there, with holdfast's
  layout cut down to what a free name needs (the sole holder kept in the data hash):
  - the fence comes from the server: the larger of its clock (µs) and the last fence + 1;
  - a newcomer never passes a queued waiter (FIFO): it is granted only when nobody is queued;
  - a watched name publishes `acquired`: it checks for listeners (and sends a bare event);
  - the holder is recorded with its token, fence and server-clock expiry, and the key expires.
  What holdfast's acquire.lua does besides (argument checks, kind and limit, permits, the
  general path's includes) is left out: this is as far as we could cut a lock with that
  contract, the floor the bench holds holdfast's sequential row against.

  KEYS[1] queue (ZSET)   KEYS[2] data (HASH: fence, s = token|fence|expiresAt|owner)
  ARGV[1] events channel   ARGV[2] token   ARGV[3] ttl (ms)   ARGV[4] owner
  Returns {1, fence} granted, {0} not (held or queued). A holder past its expiry also answers
  {0} here, where holdfast would purge it: the floor only ever meets a free name.
]]
local t = redis.call('TIME')
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
if redis.call('EXISTS', KEYS[1]) == 1 then return { 0 } end
local stored = redis.call('HMGET', KEYS[2], 'fence', 's')
if stored[2] then return { 0 } end
local watched = redis.call('PUBSUB', 'NUMPAT') > 0 or redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2] > 0
local ttl = tonumber(ARGV[3])
local fence = string.format('%.0f', math.max(tonumber(stored[1] or '0') + 1, micros))
redis.call('HSET', KEYS[2], 'fence', fence, 's', ARGV[2] .. '|' .. fence .. '|' .. (micros / 1000 + ttl) .. '|' .. ARGV[4])
redis.call('PEXPIRE', KEYS[2], ttl + 60000)
if watched then redis.call('PUBLISH', ARGV[1], 'acquired|' .. fence) end
return { 1, fence }
