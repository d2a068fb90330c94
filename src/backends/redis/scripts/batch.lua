--[[
  Several acquire and release operations of one client in one script run: what the client
  issued in the same tick of its event loop (backend.ts coalesces them), so Redis dispatches one
  EVALSHA, builds one KEYS and ARGV table and sends one reply instead of one per operation, and
  runs each operation's code while it is hot in the CPU's caches.
  scripts.ts puts acquire.lua and release.lua in front of this text, each unchanged inside a
  function of its own (`local function acquire(KEYS, ARGV, SHARED) … end`, likewise `release`),
  so each operation runs exactly as its own script would, on its own KEYS and ARGV. The
  operations run one after the other, in the order the client issued them, as separate EVALSHAs
  would. What one script run needs to ask Redis only once, they share (SHARED: the clock,
  includes/now.lua, and the count of pattern subscriptions, includes/listeners.lua).

  KEYS  the four keys of each operation's name, operation after operation
  ARGV  per operation: its kind ('a' acquire, 'r' release), its argument count n, then its n
        arguments (as in acquire.lua / release.lua)

  Returns one flat array, per operation in order: 1, n and the n elements of the array its own
  script returned; 1, -1 and its reply when that was not an array; or 0, -1 and the message
  when it raised an error (the other operations are unaffected; like a single script, what it
  wrote before the error stays). Flat because Redis turns every Lua table of a reply into a
  reply of its own, probing each for `err`, `ok` and five other fields first: nested, that was
  one table per operation and one more per acquire's reply.
]]
--- @include "includes/stable-slot"
local OPERATIONS = { a = acquire, r = release }
-- an operation's argument count as the client writes it -> the number: looked up, where
-- tonumber() would parse each operation's count twice (Lua 5.1)
local COUNTS = {}
for i = 0, 16 do COUNTS[tostring(i)] = i end

local results, shared = {}, {}
local n, key, at = 0, 1, 1
while at <= #ARGV do
  local operation, count = OPERATIONS[ARGV[at]], COUNTS[ARGV[at + 1]]
  if not operation or not count or count < 0 or at + 1 + count > #ARGV then
    return redis.error_reply('holdfast batch: malformed arguments')
  end
  -- unpack copies in C what a Lua loop would copy argument by argument (~1 µs per acquire)
  local args = { unpack(ARGV, at + 2, at + 1 + count) }
  local ok, reply = pcall(operation, { KEYS[key], KEYS[key + 1], KEYS[key + 2], KEYS[key + 3] }, args, shared)
  if not ok then
    results[n + 1], results[n + 2] = 0, -1
    results[n + 3] = type(reply) == 'table' and (reply.err or 'error') or tostring(reply)
    n = n + 3
  elseif type(reply) == 'table' then
    local size = #reply
    results[n + 1], results[n + 2] = 1, size
    for i = 1, size do results[n + 2 + i] = reply[i] end
    n = n + 2 + size
  else
    results[n + 1], results[n + 2], results[n + 3] = 1, -1, reply
    n = n + 3
  end
  key, at = key + 4, at + 2 + count
end
return results
