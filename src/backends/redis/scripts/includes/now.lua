--[[
  serverTime(): the Redis server's own clock, never the client's, so expiries do not depend
  on how well the clients' clocks agree.
  Returns now in ms (fractional, for expiries) and in µs (an integer, to seed fences).
  Redis < 5 replicates scripts verbatim and refuses writes after TIME unless told to replicate
  effects; newer servers do that already and the call is a no-op.
]]
local function serverTime()
  if redis.replicate_commands then redis.replicate_commands() end
  local t = redis.call('TIME')
  local sec, usec = tonumber(t[1]), tonumber(t[2])
  return sec * 1000 + usec / 1000, sec * 1000000 + usec
end
