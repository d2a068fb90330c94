--[[
  Redis Cluster: a script must not start while its slot is being migrated away. During a
  migration (CLUSTER SETSLOT … MIGRATING) the source node refuses, inside a script, any command
  on a key it does not have ("Script attempted to access a non local key"): the key may have
  moved already. A script whose keys all exist is let in, but any key it empties (a sorted set
  losing its last member) and touches again would stop it half-way, its earlier writes kept
  (Redis does not roll a script back): a hand-off could record a holder in the data hash and
  fail to add it to the holders' set. So every writing script first reads a key of its slot that
  never exists (`<KEYS[1]>:probe`): on a slot being migrated that read fails before any write,
  and the client sends the call again (scripts.ts) until the keys have moved (the call is then
  redirected with ASK) or the migration is over. Outside a migration, and on one Redis, the
  read is one EXISTS on a missing key.
]]
redis.call('EXISTS', KEYS[1] .. ':probe')
