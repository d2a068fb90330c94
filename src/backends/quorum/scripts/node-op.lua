--[[
  One lock operation on one node of a quorum, then the numbering of its grants (see
  ../fences.ts). scripts.ts puts the Redis backend's acquire.lua, release.lua,
  force-release.lua and unfold.lua in front of this text, each unchanged inside a function of
  its own (`local function acquire(KEYS, ARGV)`, likewise `release`, `forceRelease`, `unfold`),
  so the operation runs exactly as on a single Redis; what this script adds is one step after
  it, in the same atomic run.

  Numbering: a grant the operation made (or any earlier one that was never numbered, such as
  a hand-off by a drain in another script) gets the next number after the node's fence memory
  instead of the node's own `max(last + 1, µs clock)` fence, and the memory takes that number.
  Nodes that are in step (the same memory) thus give one grant the same fence, whatever their
  clocks say, so the client needs no write-back round trip when a majority agrees. A holder
  counts as numbered when its fence is at most the memory and it is not this run's grant to
  the caller: every fence this script or raise-fence.lua wrote is at most the memory, and any
  other grant is above it (see below). Exactness matters: a fresh grant taken for numbered
  would keep a fence below what the node remembers, and the fencing argument needs every
  granting node to number above its memory.
  A node that remembers nothing (a new name, a node restarted empty, a memory expired after
  fenceMemory ms unused) starts from the larger of the operation's own fence and the seed the
  client sent (its clock in µs plus a second, the same for every node it asks), so nodes whose
  clocks are within that second of the client's agree on a new name's first fence too.

  KEYS[1..4]       the name's keys (holders, queue, waiters, data), as the operation takes them
  KEYS[5] memory   STRING P{N}:qf, the largest quorum fence of the name this node has seen
  ARGV[1] op       'a' acquire, 'r' release, 'f' force-release
  ARGV[2] memoryMs how long the memory lives after the name's last grant
  ARGV[3] channel  P qev:<name>, where the client publishes the grant's event
  ARGV[4] seed     µs, decimal: the least first number of a node that remembers nothing
  ARGV[5..]        the operation's own arguments

  Returns { reply, listening }: the operation's own reply (an acquire's grant with the numbered
  fence) and, for an acquire, 1 when anyone listens for the name's grant events (a PSUBSCRIBE
  anywhere, or a SUBSCRIBE to ARGV[3]), else 0.
]]
local OPERATIONS = { a = acquire, r = release, f = forceRelease }
local operation = OPERATIONS[ARGV[1]]
if not operation then return redis.error_reply('holdfast quorum: unknown operation') end
local H, D, MEMORY = KEYS[1], KEYS[4], KEYS[5]
local memoryMs, seed = ARGV[2], tonumber(ARGV[4]) or 0

local args = {}
for i = 5, #ARGV do args[#args + 1] = ARGV[i] end
-- an acquire's caller that was no holder before: a grant of this run, whatever its fence
local token = ARGV[1] == 'a' and args[3] or nil
local caller = token and not redis.call('ZSCORE', H, token) and token or nil
local reply = operation({ KEYS[1], KEYS[2], KEYS[3], KEYS[4] }, args)
-- what follows reads the holders' set and their records: a grant the operation made in the
-- sole holder's form (the Redis backend's includes/sole.lua) is rewritten in the general form
unfold({ KEYS[1], KEYS[2], KEYS[3], KEYS[4] }, {})

local function int(x)
  return string.format('%.0f', x)
end

-- The holders never numbered, oldest grant first: the caller's new grant, and any holder whose
-- fence is above the memory. While the data hash exists its `fence` is at least the memory
-- (numbering sets both, a write-back raises both, only this script creates the hash, and it
-- raises a new hash's `fence` to the memory before it ends), so
-- every other grant (a drain here or in another script) is above the memory; a new hash can
-- start below it, but only the caller's grant creates one. And no holder's fence is above the
-- hash's `fence`: when that is within the memory, only the caller's record need be read, not
-- every holder (many readers of an rwlock).
local remembered = tonumber(redis.call('GET', MEMORY) or '')
local top = tonumber(redis.call('HGET', D, 'fence') or '')
local holders = {}
if top and (not remembered or top > remembered) then
  holders = redis.call('ZRANGE', H, 0, -1)
elseif token and reply[1] == 1 then
  holders = { token }
end
local fresh = {}
for _, holder in ipairs(holders) do
  local record = redis.call('HGET', D, 'h:' .. holder)
  local permits, fence, owner = string.match(record or '', '^(%d+)|(%d+)|(.*)$')
  fence = tonumber(fence)
  -- The caller's grant is numbered again when the node has learnt a larger fence since it was
  -- numbered (a waiter confirming a hand-off after a write-back raised the memory): a grant
  -- must be above everything its node knows when the lease is handed out.
  local stale = holder == token and remembered and fence and fence < remembered
  if fence and (not remembered or fence > remembered or holder == caller or stale) then
    fresh[#fresh + 1] = { token = holder, permits = permits, fence = fence, owner = owner }
  end
end
table.sort(fresh, function(x, y) return x.fence < y.fence end)

local last = remembered
local numbered = {}
for _, holder in ipairs(fresh) do
  last = last and last + 1 or math.max(holder.fence, seed)
  numbered[holder.token] = int(last)
  redis.call('HSET', D, 'h:' .. holder.token, holder.permits .. '|' .. numbered[holder.token] .. '|' .. holder.owner)
end
if #fresh > 0 then
  -- the data hash exists (it holds the records) and keeps its TTL
  redis.call('HSET', D, 'fence', int(last))
  redis.call('SET', MEMORY, int(last), 'PX', memoryMs)
else
  if remembered and ARGV[1] == 'a' then redis.call('PEXPIRE', MEMORY, memoryMs) end
  -- a hash this run created for a waiter starts without a fence: raise it to the memory, so a
  -- later drain (in any script) grants above the memory (an existing hash keeps its TTL)
  if remembered and (top or 0) < remembered and redis.call('EXISTS', D) == 1 then
    redis.call('HSET', D, 'fence', int(remembered))
  end
end

if ARGV[1] ~= 'a' then return { reply, 0 } end
-- the caller's grant: its number, if it just got one (else the fence it already had)
if reply[1] == 1 then reply[2] = numbered[args[3]] or reply[2] end
local listening = redis.call('PUBSUB', 'NUMPAT') > 0 or redis.call('PUBSUB', 'NUMSUB', ARGV[3])[2] > 0
return { reply, listening and 1 or 0 }
