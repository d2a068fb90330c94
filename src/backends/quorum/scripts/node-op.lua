--[[
  One lock operation on one node of a quorum, then the numbering of its grants (see
  ../fences.ts). scripts.ts puts the Redis backend's acquire.lua, release.lua and
  force-release.lua in front of this text, each unchanged inside a function of its own
  (`local function acquire(KEYS, ARGV)`, likewise `release`, `forceRelease`), so the operation
  runs exactly as on a single Redis; what this script adds is one step after it, in the same
  atomic run.

  Numbering: a grant the operation made (or any earlier one that was never numbered, such as
  a hand-off by a drain in another script) gets the next number after the node's fence memory
  instead of the node's own `max(last + 1, µs clock)` fence, and the memory takes that number.
  Nodes that are in step (the same memory) thus give one grant the same fence, whatever their
  clocks say, so the client needs no write-back round trip when a majority agrees. A holder
  counts as numbered when its fence is at most the memory: every fence this script or
  raise-fence.lua wrote is, and a fresh grant's is above it (the grant follows the data hash's
  `fence`, which numbering keeps equal to the memory), unless the data hash was gone and the
  node's clock is behind the memory: then the node reports a smaller fence than the others,
  and the client writes the largest back, as it does for any disagreement.
  A node that remembers nothing (a new name, a node restarted empty, a memory expired after
  fenceMemory ms unused) keeps the operation's own fence and starts its memory from it.

  KEYS[1..4]       the name's keys (holders, queue, waiters, data), as the operation takes them
  KEYS[5] memory   STRING P{N}:qf, the largest quorum fence of the name this node has seen
  ARGV[1] op       'a' acquire, 'r' release, 'f' force-release
  ARGV[2] memoryMs how long the memory lives after the name's last grant
  ARGV[3] channel  P qev:<name>, where the client publishes the grant's event
  ARGV[4..]        the operation's own arguments

  Returns { reply, listening }: the operation's own reply (an acquire's grant with the numbered
  fence) and, for an acquire, 1 when anyone listens for the name's grant events (a PSUBSCRIBE
  anywhere, or a SUBSCRIBE to ARGV[3]), else 0.
]]
local OPERATIONS = { a = acquire, r = release, f = forceRelease }
local operation = OPERATIONS[ARGV[1]]
if not operation then return redis.error_reply('holdfast quorum: unknown operation') end
local H, D, MEMORY = KEYS[1], KEYS[4], KEYS[5]
local memoryMs = ARGV[2]

local args = {}
for i = 4, #ARGV do args[#args + 1] = ARGV[i] end
local reply = operation({ KEYS[1], KEYS[2], KEYS[3], KEYS[4] }, args)

local function int(x)
  return string.format('%.0f', x)
end

-- The holders never numbered, oldest grant first. No holder's fence is above the data hash's
-- `fence` (every grant, numbering and write-back sets or raises it), so when that is within
-- the memory there is none, and the holders need not be read (many readers of an rwlock).
local remembered = tonumber(redis.call('GET', MEMORY) or '')
local top = tonumber(redis.call('HGET', D, 'fence') or '')
local holders = {}
if top and (not remembered or top > remembered) then holders = redis.call('ZRANGE', H, 0, -1) end
local fresh = {}
for _, token in ipairs(holders) do
  local record = redis.call('HGET', D, 'h:' .. token)
  local permits, fence, owner = string.match(record or '', '^(%d+)|(%d+)|(.*)$')
  fence = tonumber(fence)
  if fence and (not remembered or fence > remembered) then
    fresh[#fresh + 1] = { token = token, permits = permits, fence = fence, owner = owner }
  end
end
table.sort(fresh, function(x, y) return x.fence < y.fence end)

local last = remembered
local numbered = {}
for _, holder in ipairs(fresh) do
  last = last and last + 1 or holder.fence
  numbered[holder.token] = int(last)
  redis.call('HSET', D, 'h:' .. holder.token, holder.permits .. '|' .. numbered[holder.token] .. '|' .. holder.owner)
end
if #fresh > 0 then
  -- the data hash exists (it holds the records) and keeps its TTL
  redis.call('HSET', D, 'fence', int(last))
  redis.call('SET', MEMORY, int(last), 'PX', memoryMs)
elseif remembered and ARGV[1] == 'a' then
  redis.call('PEXPIRE', MEMORY, memoryMs)
end

if ARGV[1] ~= 'a' then return { reply, 0 } end
-- the caller's grant: its number, if it just got one (else the fence it already had)
if reply[1] == 1 then reply[2] = numbered[args[3]] or reply[2] end
local listening = redis.call('PUBSUB', 'NUMPAT') > 0 or redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2] > 0
return { reply, listening and 1 or 0 }
