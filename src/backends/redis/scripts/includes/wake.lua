--[[
  wakeClient(wakePrefix, nameBase, address, message): wakes a waiter's client at the address
  that client sent with the waiter (its clientId argument, kept in the waiter's record):
    C    PUBLISH on wakePrefix .. C (<prefix>wake:C), heard on the client's one subscriber. On
         a Redis Cluster the cluster bus carries it to every node, whichever one that is on.
    #C   SPUBLISH on nameBase .. ':wake:' .. C (<prefix>{<name>}:wake:C): the name's shard
         channel, in the slot of the name's keys, so on this very master, where the client
         SSUBSCRIBEs it while it waits on the name (Redis Cluster >= 7.0: shard-wakes.ts). It
         reaches that one connection and never crosses the cluster bus.
  A client sends #C only once the server has confirmed its SSUBSCRIBE; a waiter that listens
  nowhere else is woken by PUBLISH.
]]
local function wakeClient(wakePrefix, nameBase, address, message)
  if string.byte(address, 1) == 35 then -- '#'
    redis.call('SPUBLISH', nameBase .. ':wake:' .. string.sub(address, 2), message)
  else
    redis.call('PUBLISH', wakePrefix .. address, message)
  end
end
