--[[
  touchKeys(keys, now): no key lives forever. Runs last in every mutating script.
  Idle (no holder, no waiter): the sorted sets go, and the data hash keeps only what must
  outlive a quiet spell (fence, seq, kind, limit) for IDLE_MS. Busy: every key lives until
  the latest holder or waiter expiry plus IDLE_MS, so a crashed client's keys still vanish.
]]
local IDLE_MS = 60000
local KEPT_FIELDS = { 'fence', 'seq', 'kind', 'limit' }

local function touchKeys(keys, now)
  local lastHolder = redis.call('ZRANGE', keys[1], -1, -1, 'WITHSCORES')[2]
  local lastWaiter = redis.call('ZRANGE', keys[3], -1, -1, 'WITHSCORES')[2]
  if not lastHolder and not lastWaiter then
    redis.call('DEL', keys[1], keys[2], keys[3])
    local kept = redis.call('HMGET', keys[4], unpack(KEPT_FIELDS))
    redis.call('DEL', keys[4])
    for i, field in ipairs(KEPT_FIELDS) do
      if kept[i] then redis.call('HSET', keys[4], field, kept[i]) end
    end
    redis.call('PEXPIRE', keys[4], IDLE_MS)
    return
  end
  local latest = math.max(tonumber(lastHolder or '0'), tonumber(lastWaiter or '0'))
  local ttl = math.ceil(latest - now) + IDLE_MS
  for _, key in ipairs(keys) do redis.call('PEXPIRE', key, ttl) end
end
