--[[
  Removes every holder of a name (their renewals then fail) and hands the permits to the
  queue: the repair tool for a stuck lock.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] wake channel prefix    ARGV[2] event channel prefix    ARGV[3] name

  Publishes `lost` for each holder removed, plus what purge and drain report.
  Returns how many holders were removed.
]]
--- @include "includes/now"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"
--- @include "includes/events"

local wakePrefix = ARGV[1]
local now, nowMicros = serverTime()
local publish = newEvents(ARGV[2], ARGV[3], storedKind(KEYS), now)
local headBefore = queueHead(KEYS)
purge(KEYS, now, publish)
local holders = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, token in ipairs(holders) do
  local holder = readHolder(KEYS, token)
  removeHolder(KEYS, token)
  if holder then publish('lost', holder.fence, holder.permits, holder.owner) end
end
drain(KEYS, now, nowMicros, wakePrefix, nil, publish, headBefore)
touchKeys(KEYS, now)
return #holders
