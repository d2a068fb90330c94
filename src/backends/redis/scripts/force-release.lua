--[[
  Removes every holder of a name (their renewals then fail) and hands the permits to the
  queue: the repair tool for a stuck lock.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] prefix (of the channels)      ARGV[2] name

  Publishes `lost` for each holder removed, plus what purge and drain report.
  Returns how many holders were removed.
]]
--- @include "includes/stable-slot"
--- @include "includes/name"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"
--- @include "includes/sole"
--- @include "includes/unfold-sole"

local run = newRun(nil, 2)
-- a sole holder (includes/sole.lua) is removed like any other, in the general form
local sole = parseSole(redis.call('HGET', D, 'fence'))
if sole then unfoldSole(H, D, sole, run.now) end
run.holders, run.queued = redis.call('ZCARD', H), redis.call('ZCARD', Q)
local freed = purge(run)
local tokens = run.holders > 0 and redis.call('ZRANGE', H, 0, -1) or {}
if #tokens > 0 then
  local records = run.listening() and readRecords('h:', tokens, parseHolder) or {}
  redis.call('DEL', H)
  deleteRecords('h:', tokens)
  holdersLeft(run, run.holders, 0)
  for i = 1, #tokens do
    local holder = records[i]
    if holder then run.publish('lost', holder.fence, holder.permits, holder.owner) end
  end
  freed = true
end
if freed then drain(run, nil) end
touchKeys(run)
return #tokens
