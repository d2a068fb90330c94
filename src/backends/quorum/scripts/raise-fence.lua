--[[
  The write-back of a quorum fence (see ../fences.ts): when the nodes that granted a lease did
  not agree on its number, its fence F (the largest any of them gave) is written to every node
  that answered, so that any later majority meets at least one node that knows F. The same
  call publishes the grant's event (../events.ts), when anyone listens.

  KEYS[1] data     HASH of the name (the Redis backend's P{N}:d: `fence`, h:<token> records)
  KEYS[2] memory   STRING P{N}:qf, the largest quorum fence of the name this node has seen;
                   outlives the lock's own keys by ARGV[3] ms
  ARGV[1] token    the lease's token, whose holder record takes fence F (so inspect shows F)
  ARGV[2] F        decimal digits
  ARGV[3] memory   ms the fence memory lives
  ARGV[4] channel  P qev:<name>, where the grant's event goes
  ARGV[5] event    the event's JSON, published only while someone listens (a PSUBSCRIBE
                   anywhere, or a SUBSCRIBE to the channel); '' for none

  Returns 1.
]]
local F = ARGV[2]
local fence = tonumber(F)
local function raise(current)
  return not current or tonumber(current) < fence
end

if raise(redis.call('GET', KEYS[2])) then
  redis.call('SET', KEYS[2], F, 'PX', ARGV[3])
else
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  -- the data hash already has its TTL; HSET on an existing hash keeps it
  if raise(redis.call('HGET', KEYS[1], 'fence')) then redis.call('HSET', KEYS[1], 'fence', F) end
  local record = redis.call('HGET', KEYS[1], 'h:' .. ARGV[1])
  if record then
    local permits, owner = string.match(record, '^(%d+)|%d+|(.*)$')
    if permits then redis.call('HSET', KEYS[1], 'h:' .. ARGV[1], permits .. '|' .. F .. '|' .. owner) end
  end
end
if ARGV[5] ~= '' and (redis.call('PUBSUB', 'NUMPAT') > 0 or redis.call('PUBSUB', 'NUMSUB', ARGV[4])[2] > 0) then
  redis.call('PUBLISH', ARGV[4], ARGV[5])
end
return 1
