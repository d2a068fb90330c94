--[[
  Rewrites a name's sole holder (includes/sole.lua) in the general form, if it has one: for a
  script that reads the holders' set and records itself after running an operation (the quorum
  backend's node-op.lua) rather than for a client's call.

  KEYS[1] holders  KEYS[2] queue  KEYS[3] waiters  KEYS[4] data   (as in acquire.lua)

  Returns 1 when it unfolded a sole holder, 0 when the name had none.
]]
--- @include "includes/stable-slot"
--- @include "includes/now"
--- @include "includes/sole"
--- @include "includes/unfold-sole"

local sole = parseSole(redis.call('HGET', KEYS[4], 'fence'))
if not sole then return 0 end
unfoldSole(KEYS[1], KEYS[4], sole, serverTime(0))
return 1
