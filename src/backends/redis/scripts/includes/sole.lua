--[[
  The sole holder's form of a name: while one token holds a name that nobody waits on and
  nobody watched when it was granted, the name has no sorted sets at all. Its holder lives in
  the data hash's `fence` field, in place of the bare fence:

    fence = <fence>|<token>|<offset µs>|<ttl ms>|<permits>|<owner>

  so a free name's acquire and its release each touch one key (the general form, with the
  holders' and the queue's sorted sets and an h:<token> record, costs a sorted set and two
  key expiries more per acquire+release). The holder was armed (granted or renewed) at the
  server's µs fence + offset (offset: 0 when the fence is the clock, as it almost always is at
  a grant; negative when the fence ran ahead of it; positive after a renewal), and expires at
  that / 1000 + ttl: the very `now + ttl` the general form stores as its score (includes/now.lua
  computes now as µs / 1000), so unfolding it gives the same bits. The offset, not the armed
  µs themselves, keeps the field short: Redis keeps a hash whose values are at most 64 bytes
  (hash-max-listpack-value) as one compact listpack, and with a second 16-digit number an
  owner-less holder's field was 66.

  Any operation that needs more than the sole holder (a second holder or a waiter, a watched
  name, an expiry to purge, a force-release) first unfolds it into the general form
  (includes/unfold-sole.lua) and then runs as before: the general paths never see this form. A name in
  this form has neither sorted set, and a name with either has no holder in `fence`.

  A client from before this form finds no holders' set and goes on to read `fence` as a
  number: its acquire then stops with a Lua error before it writes anything, in its fast path
  and in its general path alike (arithmetic on a non-number), so during a rolling upgrade an
  older client fails on a name a newer one holds this way; it never grants it a second time.
  Its release, extend, sweep and force-release find no holder in the sorted sets and change
  nothing of the data hash.

  A token with '|' in it (never one the client makes) takes the general form.
]]
-- nil unless raw is a sole holder's `fence` field; else its fence and token, its expiry in ms,
-- and the raw field. The match stops at the owner, and captures neither it nor the permits:
-- only soleHolding() reads those (Lua's matcher costs per character; an owner can be long).
local function parseSole(raw)
  if not raw or not string.find(raw, '|', 1, true) then return nil end
  local fence, token, offset, ttl = string.match(raw, '^(%d+)|([^|]+)|(%-?%d+)|(%d+)|%d+|')
  if not fence then return nil end
  return { fence = fence, token = token, expiresAt = (fence + offset) / 1000 + ttl, raw = raw }
end

-- A parsed sole holder's permits and owner, as strings.
local function soleHolding(sole)
  return string.match(sole.raw, '^%d+|[^|]+|%-?%d+|%d+|(%d+)|(.*)$')
end

-- The `fence` field that makes token the sole holder, armed at the µs fence + offset (offset a
-- number; every other part already a string: the fence as int() writes it, ttl and permits as
-- the client sent them, plain digits).
local function soleRecord(fence, token, offset, ttl, permits, owner)
  -- a whole number: '%d' prints it exactly, and the usual 0 needs no formatting
  offset = offset == 0 and '0' or string.format('%d', offset)
  return fence .. '|' .. token .. '|' .. offset .. '|' .. ttl .. '|' .. permits .. '|' .. owner
end
