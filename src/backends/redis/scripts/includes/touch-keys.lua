--[[
  touchKeys(run): no key lives forever, and none vanishes while it matters. Runs last in every
  mutating lock script.
  Idle (no holder, no waiter): the sorted sets go. The data hash stays, under the TTL it
  already has (at least the latest expiry it served plus KEY_MARGIN_MS), so the name's last
  fence (includes/grant.lua), seq, kind and limit outlive a quiet spell; every record in it
  was deleted with its holder or waiter.
  Busy: every key lives until the latest holder or waiter expiry plus KEY_MARGIN_MS, so a
  crashed client's keys still vanish. That TTL is set only when this run may have moved an
  expiry beyond what it covers or created a key (grow(); a queue change sets run.grew itself):
  releases, purges and renewals that shorten need none. The latest expiry is known without
  reading when every holder was (re)armed by this run and nobody waits (the uncontended case).
]]
--- @include "lock"

local function touchKeys(run)
  if run.holders == 0 and run.queued == 0 then
    redis.call('DEL', H, Q, W)
    return
  end
  if not run.grew then return end
  local latest = run.grownTo
  if run.holders > run.fresh then
    latest = math.max(latest, tonumber(redis.call('ZRANGE', H, -1, -1, 'WITHSCORES')[2] or '0'))
  end
  if run.queued > 0 then
    latest = math.max(latest, tonumber(redis.call('ZRANGE', W, -1, -1, 'WITHSCORES')[2] or '0'))
  end
  local ttl = int(math.max(0, math.ceil(latest - run.now)) + KEY_MARGIN_MS)
  redis.call('PEXPIRE', H, ttl)
  redis.call('PEXPIRE', D, ttl)
  if run.queued > 0 then
    redis.call('PEXPIRE', Q, ttl)
    redis.call('PEXPIRE', W, ttl)
  end
end
