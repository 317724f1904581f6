-- apply.lua: one atomic write of the membership store (see write.go).
--
-- KEYS[1] the revision counter, KEYS[2] the workspace versions hash, KEYS[3] the
-- workspaces hash, KEYS[4..] the keys the operations name by index.
-- ARGV[1] the invalidation channel; ARGV[2] the invalidation without its revision,
-- a JSON object; ARGV[3..7] the preconditions, each '' when unused: the revision
-- counter's value, a workspace and the version it must be at, a workspace that must
-- not exist, a tenant workspace that must exist. ARGV[8..] the operations, four
-- arguments each: hset, hsetrev (the new revision as the value), hdel or del; the
-- index of the key; the field; the value.
--
-- Returns the new revision, or -1 (a precondition's revision or version moved on),
-- -2 (the workspace exists), -3 (a workspace does not exist), -4 (not a tenant).
local rev_key, versions, workspaces = KEYS[1], KEYS[2], KEYS[3]
local want_rev, ver_ws, ver, absent, tenant = ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]

if want_rev ~= '' and (redis.call('GET', rev_key) or '0') ~= want_rev then
  return -1
end
if ver_ws ~= '' then
  if redis.call('HEXISTS', workspaces, ver_ws) == 0 then
    return -3
  end
  if (redis.call('HGET', versions, ver_ws) or '') ~= ver then
    return -1
  end
end
if absent ~= '' and redis.call('HEXISTS', workspaces, absent) == 1 then
  return -2
end
if tenant ~= '' then
  local t = redis.call('HGET', workspaces, tenant)
  if not t then
    return -3
  end
  if cjson.decode(t)['type'] ~= 'tenant' then
    return -4
  end
end

local rev = string.format('%d', redis.call('INCR', rev_key))
for i = 8, #ARGV, 4 do
  local op, key, field = ARGV[i], KEYS[tonumber(ARGV[i + 1])], ARGV[i + 2]
  if op == 'hset' then
    redis.call('HSET', key, field, ARGV[i + 3])
  elseif op == 'hsetrev' then
    redis.call('HSET', key, field, rev)
  elseif op == 'hdel' then
    redis.call('HDEL', key, field)
  elseif op == 'del' then
    redis.call('DEL', key)
  end
end

local body = ARGV[2]
local message = '{"rev":' .. rev .. '}'
if body ~= '{}' then
  message = '{"rev":' .. rev .. ',' .. string.sub(body, 2)
end
redis.call('PUBLISH', ARGV[1], message)
return tonumber(rev)
