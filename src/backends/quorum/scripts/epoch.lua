--[[
  The restart guard of one quorum node (see ../guard.ts). A node that restarted lost every lock
  it held (or, restarted from a snapshot, may have lost some), so it must not count toward a
  quorum until every lease it could have held has run out: the longest TTL since it came back.
  The node notices its own restart: the epoch hash is gone (restarted empty) or names another
  run_id (restarted with its data loaded from disk).

  KEYS[1] epoch    HASH run = the server's run_id when the epoch was written,
                        until = server ms from which the node counts again
  ARGV[1] run_id   as INFO reported it on the same connection just before
  ARGV[2] guard    ms a restarted node stays out
  ARGV[3] mode     'read':  look only
                   'guard': a missing or stale epoch starts the guard (a node of a set in use)
                   'open':  a missing or stale epoch counts at once (a fresh set: fewer than a
                            majority of nodes have an epoch, so no lease can be held on it)

  Returns { known, remaining }: known 1 when an epoch exists ('read': of any run; after a
  write: always), remaining = ms until the node counts again (0: counts now).
]]
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local run = redis.call('HGET', KEYS[1], 'run')
local untilMs = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
local mode = ARGV[3]

if mode == 'read' then return { run and 1 or 0, math.max(0, untilMs - now) } end
if run ~= ARGV[1] then
  untilMs = now
  if mode == 'guard' then untilMs = now + tonumber(ARGV[2]) end
  redis.call('HSET', KEYS[1], 'run', ARGV[1], 'until', string.format('%.0f', untilMs))
end
return { 1, math.max(0, untilMs - now) }
