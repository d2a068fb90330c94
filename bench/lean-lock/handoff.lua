--[[
  A bench floor, not a lock holdfast ships (handoff-script-time.ts): the leanest release that
  hands a name from its only holder to the head of its queue that we could write, keeping what
  DESIGN.md asks of a hand-off, in the layout of acquire.lua beside it, with a waiter's record
  (and its expiry) in the data hash:
  - only the token's own live hold is released;
  - the head of the FIFO queue is granted, only while its waiter lives (its entry has not
    expired), for the claim window it sent;
  - the fence comes from the server: the larger of its clock (µs) and the last fence + 1;
  - the waiter's client is woken with `token|fence|serverMicros`, the grant itself;
  - a watched name publishes `handoff` (it checks for listeners, and sends a bare event);
  - the data key's expiry covers the new hold.
  What holdfast's release.lua does besides (several holders and permits, a queue of waiters
  with their expiries in a sorted set of their own so that a purge finds the expired ones
  without walking the queue, events with the holder's record, key expiries for three sorted
  sets) is left out: this is as far as we could cut a hand-off of that contract, the floor
  the bench holds holdfast's hand-off script against.

  KEYS[1] queue (ZSET token -> arrival)
  KEYS[2] data  (HASH: fence, s = token|fence|expiresAt|owner,
                 w:<token> = expiresAt|clientId|claimTtl|owner)
  ARGV[1] events channel   ARGV[2] token   ARGV[3] wake channel prefix (+ clientId)
  Returns 2 handed off, 0 not the live holder, -1 no live head (where holdfast would release,
  dropping an expired head and trying the next: the floor only ever meets one live waiter).
]]
local held = redis.call('HGET', KEYS[2], 's')
if not held or string.sub(held, 1, #ARGV[2] + 1) ~= ARGV[2] .. '|' then return 0 end
local t = redis.call('TIME')
local micros = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now = micros / 1000
local heldUntil = string.match(held, '^[^|]*|[^|]*|([^|]*)|')
if not heldUntil or tonumber(heldUntil) <= now then return 0 end
local head = redis.call('ZPOPMIN', KEYS[1])[1]
if not head then return -1 end
local stored = redis.call('HMGET', KEYS[2], 'fence', 'w:' .. head)
local until_, client, claim, owner = string.match(stored[2] or '', '^([^|]*)|([^|]*)|([^|]*)|(.*)$')
if not until_ or tonumber(until_) <= now then return -1 end
local watched = redis.call('PUBSUB', 'NUMPAT') > 0 or redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2] > 0
local fence = string.format('%.0f', math.max(tonumber(stored[1] or '0') + 1, micros))
redis.call('HSET', KEYS[2], 'fence', fence, 's', head .. '|' .. fence .. '|' .. (now + tonumber(claim)) .. '|' .. owner)
redis.call('HDEL', KEYS[2], 'w:' .. head)
if watched then redis.call('PUBLISH', ARGV[1], 'handoff|' .. fence) end
redis.call('PUBLISH', ARGV[3] .. client, head .. '|' .. fence .. '|' .. string.format('%.0f', micros))
redis.call('PEXPIRE', KEYS[2], tonumber(claim) + 60000)
return 2
