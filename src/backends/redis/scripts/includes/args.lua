--[[
  Argument checks. The TypeScript side validates first; these guard the shared data against
  any other caller, since one bad queue entry would block every waiter behind it.
  ERR_ARGS (-1) and ERR_PERMITS (-2) are mapped to errors in scripts.ts.
]]
local ERR_ARGS = -1
local ERR_PERMITS = -2

-- The number in s when it is a whole number >= 1, else nil.
local function positiveInt(s)
  local n = tonumber(s)
  if n and n >= 1 and n == math.floor(n) then return n end
  return nil
end
