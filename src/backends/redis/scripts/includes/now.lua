--[[
  serverTime(arity): the Redis server's own clock, never the client's, so expiries do not depend
  on how well the clients' clocks agree.
  Returns now in ms (fractional, for expiries) and in µs (an integer, to seed fences).
  Redis < 5 replicates scripts verbatim and refuses writes after TIME unless told to replicate
  effects; newer servers do that already and the call is a no-op.

  One script run reads TIME once: batch.lua runs several operations in one script and passes
  them its table SHARED, where the first operation to need the clock leaves it for the others
  (every standalone script has `local SHARED = nil`, put in front of it by scripts.ts). Nothing
  else runs while a script does, so one reading is as good as one per operation: each sees the
  moment the run began, which is no later than its own.

  Test clock (tests only, never in production): arity is how many ARGV the script takes. One
  more, `t:<integer µs>`, replaces TIME, so a differential test can run these scripts and the
  memory backend on one clock it drives (RedisBackendOptions.testClock). Anything else beyond
  arity is refused, so a script that grew an argument without raising its arity fails at once
  instead of reading that argument as a time.
]]
local function serverTime(arity)
  local extra = ARGV[arity + 1]
  if extra ~= nil then
    local micros = #ARGV == arity + 1 and tonumber(string.match(extra, '^t:(%d+)$'))
    if not micros then error('holdfast: unexpected argument ' .. (arity + 1) .. ' (not a test clock)') end
    return micros / 1000, micros
  end
  if SHARED and SHARED.micros then return SHARED.now, SHARED.micros end
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  -- arithmetic converts each string once; tonumber() parses it twice (Lua 5.1: lua_isnumber,
  -- then lua_tonumber), and this runs in every script
  local micros = t[1] * 1000000 + t[2]
  -- now is µs / 1000 on both clocks, so an expiry kept as µs and ttl in a sole holder's record
  -- (includes/sole.lua) comes back as exactly the `now + ttl` it was armed with
  local now = micros / 1000
  if SHARED then SHARED.now, SHARED.micros = now, micros end
  return now, micros
end
