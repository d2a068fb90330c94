--[[
  Argument checks. The TypeScript side validates first; these guard the shared data against
  any other caller, since one bad queue entry would block every waiter behind it.
  ERR_ARGS (-1), ERR_PERMITS (-2) and ERR_COST (-3) are mapped to errors in replies.ts.
]]
local ERR_ARGS = -1
local ERR_PERMITS = -2
local ERR_COST = -3

-- The number in s when it is a whole number >= 1, else nil.
local function positiveInt(s)
  local n = tonumber(s)
  if n and n >= 1 and n == math.floor(n) then return n end
  return nil
end
