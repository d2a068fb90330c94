--[[
  Argument checks. The TypeScript side validates first; these guard the shared data against
  any other caller, since one bad queue entry would block every waiter behind it.
  ERR_ARGS (-1), ERR_PERMITS (-2) and ERR_COST (-3) are mapped to errors in replies.ts.
]]
local ERR_ARGS = -1
local ERR_PERMITS = -2
local ERR_COST = -3

-- The number in s when s is a whole number >= 1 in plain digits (as the client writes it),
-- else nil. Matched, then converted once: tonumber() parses a string twice in Lua 5.1.
local function positiveInt(s)
  if s and string.find(s, '^[1-9]%d*$') then return s + 0 end
  return nil
end
