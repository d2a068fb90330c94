--[[
  Removes every holder of a name (their renewals then fail) and hands the permits to the
  queue: the repair tool for a stuck lock.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)
  ARGV[1] wake channel prefix

  Returns how many holders were removed.
]]
--- @include "includes/now"
--- @include "includes/purge"
--- @include "includes/drain"
--- @include "includes/touch-keys"

local wakePrefix = ARGV[1]
local now, nowMicros = serverTime()
purge(KEYS, now)
local holders = redis.call('ZRANGE', KEYS[1], 0, -1)
for _, token in ipairs(holders) do removeHolder(KEYS, token) end
drain(KEYS, now, nowMicros, wakePrefix, nil)
touchKeys(KEYS, now)
return #holders
