"""The Lua scripts of the Redis backend: each one a step that must be atomic (see redis_base.py for the keys)."""

# Appending (redis.py). KEYS: head, clock, log. ARGV: mode ("exact" | "next" | "touch"), expected head, first
# time, last time, news channel, news ('' = announce nothing), answer with the node's id ('id' | ''), records...
# The news (news .. new head) goes out with the append, on the room's shard channel, so the other processes
# holding the room read its stream. "touch" writes the clock back as it is: a write for a WAIT to wait for,
# after an append made elsewhere.
APPEND_SCRIPT = """
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local clock = tonumber(redis.call('GET', KEYS[2]) or '0')
local node = ''
if ARGV[7] == 'id' then node = redis.call('CLUSTER', 'MYID') end
if ARGV[1] == 'touch' then
  redis.call('SET', KEYS[2], string.format('%d', clock))
  return {'ok', head, clock, node}
end
if head ~= tonumber(ARGV[2]) then
  if ARGV[1] == 'exact' then return {'conflict', head, clock, node} end
  return {'stale', head, clock, node}
end
local n = #ARGV - 7
if n > 0 and tonumber(ARGV[3]) < clock then return {'stale', head, clock, node} end
for i = 1, n do
  redis.call('XADD', KEYS[3], string.format('%d-0', head + i), 'r', ARGV[7 + i])
end
if n > 0 then
  redis.call('SET', KEYS[1], string.format('%d', head + n))
  redis.call('SET', KEYS[2], ARGV[4])
  if ARGV[6] ~= '' then redis.call('SPUBLISH', ARGV[5], ARGV[6] .. string.format('%d', head + n)) end
end
return {'ok', head, clock, node}
"""

# Compare-and-set of a hash field, trimming the stream with it (compaction, redaction). KEYS: hash[, stream].
# ARGV: field, expected value ('' = absent), new value[, MINID to trim the stream to].
SWAP_SCRIPT = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if (current or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
if KEYS[2] then redis.call('XTRIM', KEYS[2], 'MINID', ARGV[4]) end
return 1
"""

# Writing a snapshot (redis_snapshots.py). KEYS: snap hash, snapseqs, gen. ARGV: seq, snapshot, the generation
# its writer loaded the room at. A purge moves the room to a new generation: a process that still held the room
# from before writes no snapshot.
SNAPSHOT_SCRIPT = """
if tonumber(redis.call('GET', KEYS[3]) or '0') ~= tonumber(ARGV[3]) then return 0 end
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[1], ARGV[1])
return 1
"""

# Redaction (redis_redaction.py). KEYS: stream. Trimmed entries stay in a stream's nodes as tombstones;
# copying the live ones drops them.
REBUILD_STREAM_SCRIPT = """
local entries = redis.call('XRANGE', KEYS[1], '-', '+')
redis.call('DEL', KEYS[1])
for _, entry in ipairs(entries) do
  redis.call('XADD', KEYS[1], entry[1], unpack(entry[2]))
end
return #entries
"""
