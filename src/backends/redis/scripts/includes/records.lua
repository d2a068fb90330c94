--[[
  The per-token records in the data hash (keys[4]):

  h:<token> = permits|fence|owner
  w:<token> = permits|limit|claimTtl|clientId|owner
  clientId is where the waiter's client is woken: its id, or `#` and its id when it listens on
  the name's shard channel (includes/wake.lua).
  owner is free JSON text that may contain '|', so it always comes last. claimTtl is the claim
  window its client sent (min(ttl, waiterTtl)): how long a hand-off grant lasts before the
  woken waiter confirms it.
  Numbers are written with int() because Lua's tostring keeps only 14 digits.
  parseHolder / parseWaiter take a raw record (nil or false when absent) and return nil for
  one that is absent or malformed.
]]
-- n is a whole number below 2^53 (a fence, µs, a count, a ceil()ed wait): '%d' prints it exactly
-- (Lua 5.1 formats it as a C long), in a fifth of the instructions '%.0f' takes through the
-- floating-point printer (measured with callgrind). A Lua number given to redis.call costs the
-- same float printing in Redis ('%.17g'), so the scripts pass whole numbers as int() strings.
local function int(n)
  return string.format('%d', n)
end

local function parseHolder(raw)
  if not raw then return nil end
  local permits, fence, owner = string.match(raw, '^(%d+)|(%d+)|(.*)$')
  if not permits then return nil end
  -- the digits matched: adding 0 converts them once, where tonumber() parses twice
  return { permits = permits + 0, fence = fence, owner = owner }
end

local function parseWaiter(raw)
  if not raw then return nil end
  local permits, limit, claimTtl, clientId, owner =
    string.match(raw, '^(%d+)|(%d+)|(%d+)|([^|]*)|(.*)$')
  if not permits then return nil end
  return {
    permits = permits + 0, limit = limit + 0, claimTtl = claimTtl + 0,
    clientId = clientId, owner = owner,
  }
end
