--[[
  What every lock script (acquire, release, extend, sweep, force-release) starts with: its
  keys and arguments, and the state of the name for this run.

  KEYS[1] holders  ZSET token -> expiresAt (ms, server clock)
  KEYS[2] queue    ZSET token -> arrival seq
  KEYS[3] waiters  ZSET token -> waiter expiresAt (ms)
  KEYS[4] data     HASH h:<token>, w:<token> (includes/records.lua), used, seq, fence, kind, limit
  ARGV[1] prefix   channels are <prefix>wake:<clientId> and <prefix>ev:<name> (keys.ts)
  ARGV[2] name

  A script sets now / nowMicros (includes/now.lua), publish / listening (includes/events.lua)
  and holders / queued (the sizes of KEYS[1] and KEYS[2]) as it needs them, handles its common
  case inline and returns; only the general path goes on to includes/lock.lua and the rest,
  whose functions are created only when a run reaches them (each closure costs the run).
  Every key lives at least until the latest holder or waiter expiry plus KEY_MARGIN_MS
  (includes/touch-keys.lua).
]]
--- @include "now"
--- @include "records"
--- @include "events"

local H, Q, W, D = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local PREFIX, NAME = ARGV[1], ARGV[2]
local KEY_MARGIN_MS = 60000
local now, nowMicros, publish, listening
local holders, queued = 0, 0
