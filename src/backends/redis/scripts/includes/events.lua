--[[
  Change events, published by the same script run (the same atomic step) as the change, on
  channel <prefix>ev:<name>, as compact JSON:
    { "t": type, "n": name, "k": kind, "f": fence or "", "p": permits, "o": owner,
      "a": server ms since the epoch, "e": ms until the grant expires, or -1 }

  newEvents(dataKey, prefix, name, kind, now, listens) returns, for one script run,
    publish(type, fence, permits, owner, expiresIn)   fence, owner and expiresIn may be nil
    listening()                                       true when an event would reach anyone
  kind nil means the name's stored kind (field `kind` of dataKey, else 'mutex'), read when
  the first event is built. listens: whether anyone listens, when the caller already asked
  (anyListener), else nil.

  Events cost nothing when nobody listens: the first publish (or listening()) asks the server
  once whether anyone would receive them (includes/listeners.lua); when nobody would, nothing
  is read, encoded or published for the rest of the run. The JSON is concatenated, with only
  the free texts (name, kind, owner) encoded.
]]
--- @include "records"
--- @include "listeners"

local function newEvents(dataKey, prefix, name, kind, now, listens)
  local channel, tail = prefix .. 'ev:' .. name, nil
  local function listening()
    if listens == nil then listens = anyListener(channel) end
    return listens
  end
  local function publish(type, fence, permits, owner, expiresIn)
    if not listening() then return end
    if not tail then
      kind = kind or redis.call('HGET', dataKey, 'kind') or 'mutex'
      tail = ',"n":' .. cjson.encode(name) .. ',"k":' .. cjson.encode(kind) .. ',"a":' .. int(math.floor(now))
    end
    redis.call('PUBLISH', channel, '{"t":"' .. type .. '","f":"' .. (fence or '') .. '","p":' .. int(permits)
      .. ',"o":' .. cjson.encode(owner or '') .. ',"e":' .. (expiresIn and int(math.ceil(expiresIn)) or '-1')
      .. tail .. '}')
  end
  return publish, listening
end
