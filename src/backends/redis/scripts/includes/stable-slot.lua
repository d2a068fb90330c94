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
  redirected with ASK) or the migration is over. Outside a migration the read is one EXISTS on
  a missing key. On one Redis no slot migrates: scripts.ts leaves this file out of the scripts
  it loads there (its 'standalone' expansion).
  An operation inside a batch (SHARED is the batch's table) reads nothing: batch.lua read the
  probe of its first operation's slot before any operation ran, every operation of a batch is
  in that slot (the client batches per slot on a cluster), and no migration step can run
  while a script does.
]]
if not SHARED then redis.call('EXISTS', KEYS[1] .. ':probe') end
