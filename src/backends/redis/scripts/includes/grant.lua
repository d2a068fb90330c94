--[[
  grant(run, token, permits, owner, expiresAt, kind, limit): makes token a holder until
  expiresAt and returns its fence as a string (doubles are exact to 2^53, and µs since the
  epoch stay below that for centuries, but only a string survives the trip to JavaScript).
  kind and limit (or nil) are stored with the grant, in the same HSET. The caller removes the
  token from the queue when it was queued; a grant itself never touches the queue's keys.
  (acquire.lua's fast path writes the same for a free name.)

  fence = max(last fence + 1, server µs): above every earlier grant of this name, and still
  above them after the data hash is gone. The data hash (with `fence`) outlives the name's last
  holder and waiter by at least the key margin (includes/touch-keys.lua); after that, or after
  a data loss, the fence re-seeds from the server's µs clock, which is above every earlier
  fence of the name: each fence is at most the µs of its own script run (read once per run,
  also when batch.lua runs several operations in it) plus the grants before it in that run
  (one per waiter a drain hands off, or per operation of a batch, each costing more than 1 µs
  of the run), so at most the µs at which that run ended, and any later run reads a later
  clock (as long as the server's clock does not jump backwards, see the README).
]]
--- @include "lock"

local function grant(run, token, permits, owner, expiresAt, kind, limit)
  counters(run)
  local fence = int(math.max(run.lastFence + 1, run.micros))
  run.lastFence = tonumber(fence)
  run.used = run.used + permits
  local record = int(permits) .. '|' .. fence .. '|' .. owner
  if kind then
    redis.call('HSET', D, 'fence', fence, 'used', int(run.used), 'h:' .. token, record, 'kind', kind, 'limit', int(limit))
  else
    redis.call('HSET', D, 'fence', fence, 'used', int(run.used), 'h:' .. token, record)
  end
  run.holders = run.holders + redis.call('ZADD', H, expiresAt, token)
  grow(run, expiresAt)
  return fence
end
