--[[
  What every lock script (acquire, release, extend, sweep, force-release) starts with: its
  keys and arguments (constants for the whole run), and newRun(), the state of the name for
  this run, a table passed explicitly to every helper (no include shares a mutable local).

  KEYS[1] holders  ZSET token -> expiresAt (ms, server clock)
  KEYS[2] queue    ZSET token -> arrival seq
  KEYS[3] waiters  ZSET token -> waiter expiresAt (ms)
  KEYS[4] data     HASH h:<token>, w:<token> (includes/records.lua), used, seq, fence, kind, limit
  ARGV[1] prefix   channels are <prefix>wake:<clientId> and <prefix>ev:<name> (keys.ts)
  ARGV[2] name

  A run table holds:
    now, micros         the server's clock: ms (fractional, for expiries), µs (an integer)
    publish, listening  the run's event publisher (includes/events.lua)
    holders, queued     the sizes of KEYS[1] and KEYS[2], once the script has read them
    used, lastFence     the counters in the data hash, loaded on first need (includes/lock.lua)
    headBefore          the queue's head before the run first changed the queue (nil: not taken)
    grew, grownTo, fresh  for touchKeys: whether an expiry may now lie beyond what the keys'
                        TTL covers (or a key was created), the latest holder expiry this run
                        set, and how many holders it (re)armed
  A script handles its common case inline and returns; only the general path goes on to
  includes/lock.lua and the rest, whose functions are created only when a run reaches them
  (each closure costs the run). Every key lives at least until the latest holder or waiter
  expiry plus KEY_MARGIN_MS (includes/touch-keys.lua).
]]
--- @include "now"
--- @include "records"
--- @include "events"
--- @include "margin"

local H, Q, W, D = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local PREFIX, NAME = ARGV[1], ARGV[2]

-- kind: the lock kind for events, or nil for the name's stored kind. arity: how many ARGV the
-- script takes (includes/now.lua: one more is a test clock). now and micros: the clock the
-- script already read (a fast path that needs no run reads it first), or nil. listens: whether
-- anyone listens to events, when the script already asked (includes/listeners.lua), or nil.
local function newRun(kind, arity, now, micros, listens)
  if not now then now, micros = serverTime(arity) end
  local publish, listening = newEvents(D, PREFIX, NAME, kind, now, listens)
  return {
    now = now, micros = micros, publish = publish, listening = listening,
    holders = 0, queued = 0, grew = false, grownTo = 0, fresh = 0,
  }
end
