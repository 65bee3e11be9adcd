-- dynamism: dynamic address pools for clients no database knows, answered from handleUnknownMAC.
--
-- Unlike the original extension, leases live in `store`, so they survive restarts and reloads, and
-- any number of daemons sharing one store (STORE_ENGINE = "PostgreSQL") allocate from the same
-- pools safely; a declined address is quarantined instead of being handed out again at once.
--
-- Enable it in conf.lua (see docs/SCRIPTING.md, "dynamism"):
--
--   function init()
--     extensions.dynamism.pools = {
--       { name = "guests", subnet = "198.51.100.0/24", serial = 0,
--         first = "198.51.100.10", last = "198.51.100.250", lease_time = 3600,
--         hostname_prefix = "guest", subnet_mask = "255.255.255.0", gateways = {"198.51.100.1"} },
--     }
--     dynamism = require "dynamism"
--   end
--   function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
--     return dynamism.handle(packet, method, mac, client_ip, relay_ip, port)
--   end
--   function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
--     dynamism.loadDHCPPacket(packet, method, mac, definition)
--     return true
--   end
--
-- Store layout, per pool P:
--   "dynamism/P/A/<ip>"  -> {mac=, state = "offered"|"bound", expires=, hostname=} or {quarantined = until, declined_by = mac}
--                           THE holder of the address: one key per address, so an address has at most one holder.
--                           hostname (optional) is what the client sent in option 12, for the dashboard's leases page.
--   "dynamism/P/L/<mac>" -> {ip=}
--                           index from a MAC to its address; valid only while A/<ip> names that MAC.
-- (<ip> is zero-padded, "198.051.100.010", so that scan order is address order.)
--
-- Rules that make several daemons safe (docs/SCRIPTING.md, "dynamism", "Several daemons"):
--   * The store is the only truth, and A/<ip> is the only record that grants an address: it is
--     changed only by store.cas against the version the decision read, so of two daemons deciding
--     on one address at once one wins and the other decides again (see "One attempt at a
--     decision" below). What a daemon keeps in Lua (`hint`, `claimed`, `known`) only chooses where
--     to look first. The search for a free address starts at a hash of the MAC, so that concurrent
--     allocations (in one daemon or several) try different addresses and the daemons receiving
--     one broadcast DISCOVER try the same one.
--   * A decision may be made again after a record changed under it. Its function changes nothing
--     outside the store: what it learns goes into a fresh `run` table per attempt, applied to the
--     hint afterwards; log lines are written afterwards too.
--   * Every store call may suspend the coroutine (a round trip), so none is made from a callback Lua
--     cannot yield across (table.sort comparators, gsub functions, __gc, __close).
--   * Times are each daemon's os.time(): the daemons' clocks must agree (NTP) to well within
--     offer_time and reclaim_after.
-- Leases written by the previous layout (A/<ip> -> {mac=} with the state in L/<mac>, and a change
-- counter "dynamism/P/V") are read as they are; the sweep rewrites them and deletes V.

local M = {}
local Pool = {}
Pool.__index = Pool

local log = logging.getLogger("extension.dynamism")

local POOL_DEFAULTS = {
  serial = 0,
  lease_time = 3600,
  offer_time = 60,            -- seconds an OFFER holds an address before it is free again
  reclaim_after = nil,        -- seconds after a bound lease expires before its address is reused (default: lease_time)
  quarantine_time = nil,      -- seconds a DECLINEd address stays out of use (default: lease_time)
  discourage_renewals = true, -- T1 = T2 = 97.5 % of lease_time
  hostname_prefix = nil,
  relays = nil,               -- list of relay addresses served by this pool (default: any relay in its subnet)
}

--- How many addresses one allocation reads from the store before it gives up on its hint (it then
--- refreshes the hint with one scan, at most once a second, and tries once more).
M.CANDIDATES = 8
--- How many records one sweep of a pool removes or rewrites at most (each a compare-and-set);
--- the rest waits for the next sweep.
M.SWEEP_BATCH = 100
--- When this many hooks of the daemon already wait on the shared store (store.waiting()), a new
--- DISCOVER gets no answer: the requests already waiting are answered first, in time, instead of
--- all of them late (an OFFER that comes after the client gave up is work thrown away, and past
--- the store's capacity that work is what drowns it). Its client asks again. REQUESTs, RELEASEs
--- and DECLINEs complete what was started, so they are shed only past four times as many.
M.SHED_WAITING = 128
--- Seconds after which an allocation's claim on a candidate no longer keeps this daemon's other
--- allocations away (a request whose hook was abandoned never releases its claims).
M.CLAIM_TIME = 10

-- The clock (seconds); tests replace M.clock to move time.
M.clock = os.time
local function now() return M.clock() end

local function ipKey(ip)
  -- Zero-padded so that scan() order is address order.
  local octets = IPv4.toList(ip)
  return string.format("%03d.%03d.%03d.%03d", octets[1], octets[2], octets[3], octets[4])
end

local function fromIPKey(key)
  local a, b, c, d = key:match("^(%d+)%.(%d+)%.(%d+)%.(%d+)$")
  if not a then return nil end
  return string.format("%d.%d.%d.%d", tonumber(a), tonumber(b), tonumber(c), tonumber(d))
end

--- DynamicPool{ name=, subnet=, serial=, lease_time=, first=, last= | ips=, hostname_prefix=,
--- subnet_mask=, gateways=, broadcast_address=, domain_name=, domain_name_servers=, ntp_servers=,
--- discourage_renewals=, offer_time=, reclaim_after=, quarantine_time=, relays= }
function M.DynamicPool(options)
  if type(options) ~= "table" then error("dynamism.DynamicPool: expected a table of options, got " .. type(options), 2) end
  local self = setmetatable({}, Pool)
  for key, value in pairs(POOL_DEFAULTS) do self[key] = value end
  for key, value in pairs(options) do self[key] = value end
  local function need(field, kind)
    if type(self[field]) ~= kind then
      error(string.format("dynamism pool %s: '%s' must be a %s, got %s", tostring(options.name), field, kind, type(self[field])), 3)
    end
  end
  need("name", "string")
  need("subnet", "string")
  if not self.name:match("^[%w_.-]+$") then error("dynamism pool name '" .. self.name .. "' may hold only letters, digits, '_', '.', '-'", 2) end
  if math.type(self.serial) ~= "integer" then error("dynamism pool " .. self.name .. ": 'serial' must be an integer", 2) end
  for _, field in ipairs({"lease_time", "offer_time"}) do
    if math.type(self[field]) ~= "integer" or self[field] <= 0 then
      error("dynamism pool " .. self.name .. ": '" .. field .. "' must be a positive integer", 2)
    end
  end
  self.reclaim_after = self.reclaim_after or self.lease_time
  self.quarantine_time = self.quarantine_time or self.lease_time
  self.prefix = "dynamism/" .. self.name .. "/"
  self.addresses, self.inPool = {}, {}
  -- Hints, private to this daemon and never trusted: when each address known to be held becomes
  -- free (ip -> time), refreshed by one scan now and then (hintAt: when) and corrected by every
  -- decision of this daemon once it is made; and the addresses this daemon's allocations in
  -- flight are trying (ip -> the call), so that concurrent requests try different ones.
  self.hint, self.hintAt = {}, nil
  self.claimed = {}
  self.known = {} -- key -> {value=, token=}: records this daemon last read or wrote (see Run)
  self.shed, self.shedTotal = 0, 0 -- requests not answered because the store was behind (M.SHED_WAITING)
  self.granted = {} -- leases this daemon ACKed, by MAC: {ip, expires}, for renewals while the store is down
  if self.first or self.last then
    if not (self.first and self.last) then error("dynamism pool " .. self.name .. ": give both 'first' and 'last'", 2) end
    self:add_range(self.first, self.last)
  end
  if self.ips then self:add_ips(self.ips) end
  return self
end

--- Adds addresses (a list of strings). The original's ARP probing is not offered: an address in use
--- by a host the server does not know is found by the client's DECLINE and quarantined.
function Pool:add_ips(ips)
  for _, ip in ipairs(ips) do
    local canonical = IPv4.parse(ip)
    if not canonical then error("dynamism pool " .. self.name .. ": '" .. tostring(ip) .. "' is not an IPv4 address", 2) end
    if not IPv4.inSubnet(canonical, self.subnet) then
      error("dynamism pool " .. self.name .. ": " .. canonical .. " is outside " .. self.subnet, 2)
    end
    if not self.inPool[canonical] then
      self.inPool[canonical] = true
      self.addresses[#self.addresses + 1] = canonical
    end
  end
end
Pool.addIPs = Pool.add_ips

function Pool:add_range(first, last)
  local low, high = IPv4.toInt(first), IPv4.toInt(last)
  if not low or not high or low > high then
    error("dynamism pool " .. self.name .. ": bad range " .. tostring(first) .. " - " .. tostring(last), 2)
  end
  if high - low > 65535 then error("dynamism pool " .. self.name .. ": a range may hold at most 65536 addresses", 2) end
  local list = {}
  for value = low, high do list[#list + 1] = IPv4.fromInt(value) end
  self:add_ips(list)
end

-- Records ------------------------------------------------------------------------------------------

function Pool:_addressKey(ip) return self.prefix .. "A/" .. ipKey(ip) end
function Pool:_leaseKey(mac) return self.prefix .. "L/" .. mac end

--- The holder an A/<ip> record stands for: {mac=, state=, expires=} or {quarantined=, declined_by=};
--- nil when it holds nothing (damaged, or an old-layout record whose MAC has moved on).
--- `leaseOf(mac)` gives L/<mac>, consulted only for old-layout records ({mac=} alone).
local function effectiveHolder(record, ip, leaseOf)
  if type(record) ~= "table" then return nil end
  if record.quarantined ~= nil then
    return type(record.quarantined) == "number" and record or nil
  end
  if type(record.mac) ~= "string" then return nil end
  if (record.state == "offered" or record.state == "bound") and type(record.expires) == "number" then return record end
  local lease = leaseOf(record.mac)
  if type(lease) == "table" and lease.ip == ip and type(lease.expires) == "number" then
    return { mac = record.mac, state = lease.state == "offered" and "offered" or "bound", expires = lease.expires, old_layout = true }
  end
  return nil
end

--- When the address of a holder becomes free for anyone.
function Pool:_freeAt(holder)
  if holder.quarantined then return holder.quarantined end
  if holder.state == "offered" then return holder.expires end
  return holder.expires + self.reclaim_after
end

--- Whether `mac` may take an address whose holder is `holder` (nil: none) at time `at`.
function Pool:_freeFor(holder, mac, at)
  if holder == nil then return true end
  if holder.mac == mac and not holder.quarantined then return true end
  return at >= self:_freeAt(holder)
end

-- One attempt at a decision --------------------------------------------------------------------------
-- A decision reads the records it depends on, with their tokens, and changes an A/<ip> holder only
-- by store.cas against the token it read: of two daemons deciding on one address at once, one
-- write lands and the other is refused, and the refused decision is made again from what the store
-- holds now (at most M.ATTEMPTS times). No transaction, so a decision is a few single-statement
-- round trips: a new client's DISCOVER reads L/<mac> and claims an address, a renewal that this
-- daemon granted is one compare-and-set. L/<mac> is only an index, written plainly; every use of
-- it checks the A/ record it names.
--
-- A daemon remembers the records it last read or wrote (`known`), and a decision's first attempt
-- starts from them; the compare-and-set validates what it changes. A decision that wrote nothing
-- after using a remembered record is made again from the store, so memory alone never answers.
-- Absent L/<mac> records are never remembered (another daemon may have given that MAC a lease).

--- Raised (as the error value) when a compare-and-set finds that a record changed.
local Conflict = setmetatable({}, { __tostring = function() return "dynamism: a record changed under a decision" end })

local Run = {}
Run.__index = Run

function Pool:_newRun(call, fresh)
  return setmetatable({ pool = self, call = call, cache = {}, learned = {}, notes = {}, fresh = fresh,
    remembered = false, wrote = false }, Run)
end

--- Whether a record of `key` may be remembered (see above).
local function rememberable(key, entry)
  return entry.value ~= false or not key:find("/L/", 1, true)
end

function Pool:_remember(key, entry)
  if rememberable(key, entry) then self.known[key] = entry else self.known[key] = nil end
end

--- Reads `keys` not yet known to this attempt in one round trip.
function Run:fetch(keys)
  local missing, known = {}, self.pool.known
  for _, key in ipairs(keys) do
    if key and not self.cache[key] then
      local entry = not self.fresh and known[key]
      if entry then
        self.cache[key], self.remembered = entry, true
      else
        missing[#missing + 1] = key
      end
    end
  end
  if #missing == 0 then return end
  local values, tokens = store.getMany(missing)
  for _, key in ipairs(missing) do
    local entry = { value = values[key] or false, token = tokens[key] }
    self.cache[key] = entry
    self.pool:_remember(key, entry)
  end
end

--- The record of `key` ({value = table or false, token =}). `assumeAbsent`: when nothing is
--- known of it, take it to be absent without a round trip (the compare-and-set that claims it
--- checks that).
function Run:entry(key, assumeAbsent)
  local entry = self.cache[key]
  if entry then return entry end
  if assumeAbsent and (self.fresh or not self.pool.known[key]) then
    entry = { value = false }
    self.cache[key] = entry
    return entry
  end
  self:fetch({ key })
  return self.cache[key]
end

function Run:get(key) return self:entry(key).value or nil end

--- Sets `key` to `value` (nil deletes) if it still holds what this attempt read; otherwise ends
--- the attempt with Conflict (and remembers what the store holds now). `index` (from
--- Run:indexChange) is written in the same round trip when the set writes, and not at all
--- when it does not.
function Run:set(key, value, index)
  local entry = self:entry(key)
  local ok, second, third
  if index then
    ok, second, third = store.cas(key, value, entry.token, index.key, index.value)
  else
    ok, second, third = store.cas(key, value, entry.token)
  end
  if ok then
    local written = { value = value or false, token = second }
    self.cache[key], self.wrote = written, true
    self.pool:_remember(key, written)
    if index then self:indexed(index) end
    return
  end
  self.pool:_remember(key, { value = second or false, token = third })
  self.conflictKey = key
  error(Conflict, 0)
end

--- The write that points L/<mac> at `ip` ({ key, value }), or nil when it points there already.
function Run:indexChange(mac, ip)
  local key = self.pool:_leaseKey(mac)
  local current = self:get(key)
  if type(current) == "table" and current.ip == ip then return nil end
  return { key = key, value = { ip = ip } }
end

--- Records an index write made (alone, or along with a set).
function Run:indexed(index)
  self.pool:_remember(index.key, { value = index.value })
  self.cache[index.key] = { value = index.value } -- no token: a later set of it reads again
end

--- Points L/<mac> at `ip` (nil: removes it) when it does not already; an index needs no
--- compare-and-set.
function Run:index(mac, ip)
  local key = self.pool:_leaseKey(mac)
  local current = self:get(key)
  local indexed = type(current) == "table" and current.ip or nil
  if indexed == ip then return end
  if ip then
    local index = { key = key, value = { ip = ip } }
    store.put(key, index.value)
    self:indexed(index)
  else
    store.delete(key)
    self.cache[key] = { value = false }
    self.pool.known[key] = nil
  end
end

function Run:note(level, ...) self.notes[#self.notes + 1] = { level, ... } end

--- The effective holder of `ip` (see effectiveHolder). `assumeAbsent` as in Run:entry.
function Run:holder(ip, assumeAbsent)
  local pool = self.pool
  local holder = effectiveHolder(self:entry(pool:_addressKey(ip), assumeAbsent).value or nil, ip,
    function(mac) return self:get(pool:_leaseKey(mac)) end)
  self.learned[ip] = holder and pool:_freeAt(holder) or false
  return holder
end

--- The lease `mac` holds in this pool: {ip=, state=, expires=} or nil. L/<mac> finds it, and counts
--- only while A/<ip> names the MAC; without a valid L/<mac>, A/<wanted> naming the MAC counts too.
function Run:lease(mac, wanted)
  local pool = self.pool
  local wantedKey = wanted and pool.inPool[wanted] and pool:_addressKey(wanted)
  if wantedKey and not self.fresh then
    -- A renewal of an address this daemon remembers the MAC holding: the compare-and-set that
    -- renews it checks that, so L/<mac> need not be read (one round trip in all).
    local known = self.cache[wantedKey] or pool.known[wantedKey]
    local record = known and known.value
    if type(record) == "table" and record.mac == mac and (record.state == "offered" or record.state == "bound")
        and type(record.expires) == "number" then
      self.cache[wantedKey], self.remembered = known, true
      return { ip = wanted, state = record.state, expires = record.expires }
    end
  end
  self:fetch({ pool:_leaseKey(mac), wantedKey or false })
  local index = self:get(pool:_leaseKey(mac))
  local indexed = type(index) == "table" and type(index.ip) == "string" and IPv4.parse(index.ip) or nil
  for _, ip in ipairs({ indexed or false, wanted or false }) do
    if ip and pool.inPool[ip] then
      local holder = self:holder(ip)
      if holder and holder.mac == mac and not holder.quarantined then
        return { ip = ip, state = holder.state, expires = holder.expires }
      end
    end
  end
  return nil
end

--- Makes `mac` the holder of `ip` in `state`; `current` is its lease (possibly at another address).
--- The address must be free for the MAC (Pool:_freeFor); an expired holder is evicted (its L/ index
--- is left to the sweep: every use of an index checks the A/ record).
function Run:take(ip, mac, state, at, current)
  local pool = self.pool
  local expires = at + (state == "bound" and pool.lease_time or pool.offer_time)
  -- The client's name (option 12) when this request carried one, else the one its record kept
  -- (the record set() compares against, so no further read).
  local previous = self:entry(pool:_addressKey(ip)).value
  local kept = type(previous) == "table" and previous.mac == mac and previous.hostname
  local hostname = self.hostname or (type(kept) == "string" and kept or nil)
  -- The L/<mac> index goes with the last compare-and-set: one round trip fewer for a new client,
  -- and written only if the claim is (docs/SCRIPTING.md, "dynamism").
  local index = self:indexChange(mac, ip)
  local moving = current and current.ip ~= ip
  self:set(pool:_addressKey(ip), { mac = mac, state = state, expires = expires, hostname = hostname },
    not moving and index or nil)
  self.learned[ip] = pool:_freeAt({ state = state, expires = expires })
  if moving then
    self:set(pool:_addressKey(current.ip), nil, index)
    self.learned[current.ip] = false
  end
  return ip
end

-- FNV-1a of the MAC: where its search for a free address starts.
local function macHash(mac)
  local hash = 0xcbf29ce484222325
  for index = 1, #mac do hash = ((hash ~ mac:byte(index)) * 0x100000001b3) & 0x7fffffffffffffff end
  return hash
end

--- A free address for `mac`: the pool's addresses in order from a position given by a hash of the
--- MAC (the same on every daemon, different for different MACs, so that concurrent allocations in
--- this and other daemons try different addresses), skipping those the hint says are held and those
--- another allocation of this daemon is trying. An address nothing is known of is taken to be free
--- (the claim's compare-and-set checks it); one known to be held counts against M.CANDIDATES.
--- Returns the address, or nil and "busy" (candidates ran out) or "full" (the hint knows no free
--- address).
function Run:pick(mac, at)
  local pool = self.pool
  local addresses, count = pool.addresses, #pool.addresses
  if count == 0 then return nil, "full" end
  local hint, learned, claimed = pool.hint, self.learned, pool.claimed
  local start = macHash(mac) % count
  local tried = 0
  for step = 0, count - 1 do
    local ip = addresses[(start + step) % count + 1]
    local freeAt = learned[ip]
    if freeAt == nil then freeAt = hint[ip] end
    local claim = claimed[ip]
    if (not freeAt or at >= freeAt) and (claim == nil or claim == self.call or at - claim.started >= M.CLAIM_TIME) then
      if pool:_freeFor(self:holder(ip, true), mac, at) then
        claimed[ip] = self.call
        self.call.claims[#self.call.claims + 1] = ip
        return ip
      end
      tried = tried + 1
      if tried >= M.CANDIDATES then return nil, "busy" end
    end
  end
  return nil, "full"
end

--- A free address (Run:pick) taken for `mac` (Run:take). When another decision claims a candidate
--- first, its compare-and-set is refused and the next candidate is tried in the same attempt (the
--- refused one is now known to be held), so a burst of new clients on the last free addresses of
--- a pool does not start whole decisions over. Returns the address, or nil and why.
function Run:claim(mac, state, at, current)
  for _ = 1, M.CANDIDATES do
    local ip, reason = self:pick(mac, at)
    if not ip then return nil, reason end
    local key = self.pool:_addressKey(ip)
    local ok, taken = pcall(self.take, self, ip, mac, state, at, current)
    if ok then return taken end
    -- Only a refusal of the address's own record (take's first write: nothing else happened yet)
    -- moves on to the next candidate; anything else ends the attempt.
    if taken ~= Conflict or self.conflictKey ~= key then error(taken, 0) end
    self.cache[key] = self.pool.known[key] or { value = false }
    local same = self:_sameClient(ip, mac, state, at, current)
    if same then return same end
  end
  return nil, "busy"
end

--- After a refused claim of `ip`: when the record that refused it names this very MAC (another
--- daemon answered the same client a moment earlier, from the same first candidate), answer with
--- that address too rather than a second one, so the client hears one address from every server.
--- An offer repeats it as it stands (a lease the other daemon bound is never written back to an
--- offer); a request binds it. nil when the record names someone else.
function Run:_sameClient(ip, mac, state, at, current)
  local record = self.cache[self.pool:_addressKey(ip)].value
  if type(record) ~= "table" or record.mac ~= mac or record.quarantined or type(record.expires) ~= "number"
      or at >= record.expires or (record.state ~= "offered" and record.state ~= "bound") then
    return nil
  end
  self.learned[ip] = self.pool:_freeAt(record)
  if state == "offered" then return ip end
  return self:take(ip, mac, state, at, current)
end

--- Ends the claims of one call (see Run:pick).
function Pool:_unclaim(call)
  for _, ip in ipairs(call.claims) do
    if self.claimed[ip] == call then self.claimed[ip] = nil end
  end
  call.claims = {}
end

--- How many times a decision is made again after a record changed under it, before giving up.
M.ATTEMPTS = 8

--- Makes the decision `body(run)` (see above) and returns its results; afterwards applies what the
--- decision learned to the hint and writes its log lines.
function Pool:_transact(body)
  local call = { claims = {}, started = now() }
  local fresh = false
  for _ = 1, M.ATTEMPTS do
    local run = self:_newRun(call, fresh)
    local results
    if store.engine == "SQLite" then
      -- This daemon's own file: one SQLite transaction for the decision's calls is one commit
      -- instead of one per call (nothing else writes the file between them anyway).
      results = store.transaction(function() return table.pack(pcall(body, run)) end)
    else
      results = table.pack(pcall(body, run))
    end
    self:_unclaim(call)
    if results[1] then
      if run.remembered and not run.wrote and not fresh then
        fresh = true -- decided from memory alone: decide again from the store
      else
        for ip, freeAt in pairs(run.learned) do self.hint[ip] = freeAt or nil end
        for _, note in ipairs(run.notes) do log[note[1]](table.unpack(note, 2)) end
        return table.unpack(results, 2, results.n)
      end
    elseif results[2] ~= Conflict then
      error(results[2], 0)
    end
  end
  error(string.format("pool %s: the addresses a decision depended on kept changing (%d attempts); try again", self.name, M.ATTEMPTS), 0)
end

--- Replaces the hint with what the store holds now: one scan of the pool's A/ keys (which also
--- refreshes the remembered A/ records).
function Pool:_refreshHint(at)
  local hint, skip = {}, #self.prefix + 3
  for key in pairs(self.known) do
    if key:find("/A/", 1, true) then self.known[key] = nil end
  end
  for _, entry in ipairs(store.scan(self.prefix .. "A/")) do
    local ip = fromIPKey(entry.key:sub(skip))
    local record = entry.value
    self.known[entry.key] = { value = record, token = entry.token }
    -- Old-layout records ({mac=} alone) stay out: the decision that looks at them reads L/<mac>.
    local holder = ip and effectiveHolder(record, ip, function() return nil end)
    if holder then
      local freeAt = self:_freeAt(holder)
      if freeAt > at then hint[ip] = freeAt end
    end
  end
  self.hint, self.hintAt = hint, at
end

--- Every record of the pool from one scan: holders by address (and the addresses in order), leases
--- by MAC (and the MACs in order), whether the old change counter V is there, and each key's token.
function Pool:_scanAll()
  local holders, addresses, leases, macs, counter, tokens = {}, {}, {}, {}, false, {}
  local skip = #self.prefix + 1
  for _, entry in ipairs(store.scan(self.prefix)) do
    tokens[entry.key] = entry.token
    local rest = entry.key:sub(skip)
    local kind, name = rest:match("^([AL])/(.+)$")
    if kind == "A" then
      local ip = fromIPKey(name)
      if ip then holders[ip] = entry.value; addresses[#addresses + 1] = ip end
    elseif kind == "L" then
      leases[name] = entry.value; macs[#macs + 1] = name
    elseif rest == "V" then
      counter = true
    end
  end
  return holders, addresses, leases, macs, counter, tokens
end

-- Definitions -----------------------------------------------------------------------------------

function Pool:hostname(ip)
  if not self.hostname_prefix then return nil end
  return self.hostname_prefix .. "-" .. ip:gsub("%.", "-")
end

function Pool:definition(ip, lease_time)
  return Definition{
    ip = ip, lease_time = lease_time or self.lease_time, subnet = self.subnet, serial = self.serial,
    hostname = self:hostname(ip), gateways = self.gateways or self.gateway, subnet_mask = self.subnet_mask,
    broadcast_address = self.broadcast_address, domain_name = self.domain_name,
    domain_name_servers = self.domain_name_servers, ntp_servers = self.ntp_servers,
    extra = { dynamism_pool = self.name },
  }
end

-- Requests --------------------------------------------------------------------------------------

local function wantedAddress(packet, method, client_ip)
  local wanted = client_ip
  if not wanted and packet then
    wanted = packet:getOption("requested_ip_address", true)
    if not wanted and (method == "REQUEST:RENEW" or method == "REQUEST:REBIND") then
      wanted = packet:getOption("ciaddr", true)
    end
  end
  if wanted == nil then return nil end
  return (IPv4.parse(wanted))
end

--- The name the client sent (option 12) as printable ASCII, at most 255 bytes, or nil: the store
--- keeps only UTF-8 text, and a client may send any bytes at all.
local function clientHostname(packet)
  local name = packet and packet:getOption("hostname", true)
  if type(name) ~= "string" then return nil end
  name = name:gsub("[^\32-\126]", ""):sub(1, 255)
  if name == "" then return nil end
  return name
end

--- The decision for one packet, made by `run`: the address to answer with, or nil (and
--- "busy"/"full" when no address could be found for an allocation).
function Pool:_decide(run, method, mac, wanted, at)
  if method == "DISCOVER" then
    local lease = run:lease(mac, wanted)
    if lease and (lease.state == "offered" or at < lease.expires + self.reclaim_after) then
      -- Its address: a pending offer is held for offer_time again; a lease is left as it is.
      if lease.state == "offered" then run:take(lease.ip, mac, "offered", at, lease) end
      return lease.ip
    end
    if wanted and self.inPool[wanted] and self:_freeFor(run:holder(wanted), mac, at) then
      return run:take(wanted, mac, "offered", at, lease)
    end
    return run:claim(mac, "offered", at, lease)
  elseif method:sub(1, 8) == "REQUEST:" then
    local lease = run:lease(mac, wanted)
    if lease then
      if wanted and wanted ~= lease.ip then
        run:note("info", "%s asks for %s but holds %s in pool %s; not answering", mac, wanted, lease.ip, self.name)
        return nil
      end
      return run:take(lease.ip, mac, "bound", at, lease)
    elseif wanted then
      -- Free, or held by another MAC (here or in another daemon): nil, so the engine NAKs or ignores.
      if self.inPool[wanted] and self:_freeFor(run:holder(wanted), mac, at) then
        return run:take(wanted, mac, "bound", at)
      end
      return nil
    end
    return run:claim(mac, "bound", at)
  elseif method == "RELEASE" or method == "DECLINE" then
    local lease = run:lease(mac, wanted)
    if not lease or (wanted and wanted ~= lease.ip) then return nil end
    if method == "DECLINE" then
      local holder = { quarantined = at + self.quarantine_time, declined_by = mac }
      run:set(self:_addressKey(lease.ip), holder)
      run.learned[lease.ip] = holder.quarantined
      run:note("warning", "%s declined %s (pool %s): quarantined for %d s", mac, lease.ip, self.name, self.quarantine_time)
    else
      run:set(self:_addressKey(lease.ip), nil)
      run.learned[lease.ip] = false
    end
    run:index(mac, nil)
    return lease.ip
  end
  return nil
end

--- handle(method, packet, mac, client_ip) -> Definition or nil, as the original's DynamicPool.handle.
function Pool:handle(method, packet, mac, client_ip)
  local at = now()
  if method == "INFORM" then
    if client_ip and self.inPool[client_ip] then return self:definition(client_ip) end
    return nil
  end
  local allocating = method == "DISCOVER" or method:sub(1, 8) == "REQUEST:"
  if not allocating and method ~= "RELEASE" and method ~= "DECLINE" then return nil end
  local waiting = store.waiting()
  if waiting >= M.SHED_WAITING and (method == "DISCOVER" or waiting >= 4 * M.SHED_WAITING) then
    self.shed, self.shedTotal = self.shed + 1, self.shedTotal + 1
    -- An error, not nil: nil means "unknown client", which the engine may NAK or blocklist; this
    -- request is only dropped. The message is the same each time, so the engine logs it once a
    -- minute with a count.
    error(string.format("pool %s: the store is behind (at least %d requests wait on it); this %s is dropped for its client to send again",
      self.name, M.SHED_WAITING, method), 0)
  end
  local wanted = wantedAddress(packet, method, client_ip)
  local ok, ip = pcall(self._answer, self, method, mac, wanted, at, allocating, clientHostname(packet))
  if ok then
    if self.outageSince then
      log.warning("pool %s: the store answers again; allocations resume (it failed for %d s)", self.name, at - self.outageSince)
      self.outageSince = nil
    end
    if not ip then return nil end
    if method:sub(1, 8) == "REQUEST:" then
      self.granted[mac] = { ip = ip, expires = at + self.lease_time }
    elseif method == "RELEASE" or method == "DECLINE" then
      self.granted[mac] = nil
    end
    return self:definition(ip)
  end
  -- The store failed. An outage (unreachable, or slower than DATABASE_TIMEOUT) is reported once, at
  -- CRITICAL; meanwhile a client renewing a lease this daemon granted is answered from memory for
  -- what remains of it (never longer: the store's record, and so the other daemons, hold it until
  -- then), and everything else is dropped, so clients retry instead of being refused.
  local message = tostring(ip)
  if message:find("unavailable", 1, true) or message:find("DATABASE_TIMEOUT", 1, true) then
    if not self.outageSince then
      self.outageSince = at
      log.critical("pool %s: the store failed (%s); new allocations stop until it answers again, renewals of leases this daemon granted are answered from memory until they expire", self.name, message)
    end
    local held = self.granted[mac]
    if held and at < held.expires and method:sub(1, 8) == "REQUEST:" and (not wanted or wanted == held.ip) then
      return self:definition(held.ip, held.expires - at)
    end
    -- The same words for every packet of the outage (the driver's own message names the key and
    -- the connection), so the engine logs it once a minute with a count, not once per packet.
    error(string.format("pool %s: the store is unavailable since %s UTC (see the CRITICAL record); this %s waits for it",
      self.name, os.date("!%H:%M:%S", self.outageSince), method), 0)
  end
  error(ip, 0)
end

--- The store's answer to one request: the address, or nil.
function Pool:_answer(method, mac, wanted, at, allocating, hostname)
  if allocating and not self.hintAt and not self.hintLoading then
    -- One first scan at a time: requests that come while it runs go on without a hint (each
    -- candidate is checked in the store anyway) rather than each starting a scan of their own.
    self.hintLoading = true
    local ok, problem = pcall(self._refreshHint, self, at)
    self.hintLoading = nil
    if not ok then error(problem, 0) end
  end
  if method == "DISCOVER" and self.fullUntil then
    if at < self.fullUntil then
      -- The pool was full a moment ago: a client without a lease gets nothing (whatever address
      -- its DISCOVER asks for: none is free), which one read tells. Under a flood of new clients that keeps the store's load to one round
      -- trip each; the decision below still answers a client that holds a lease.
      local lease = store.get(self.prefix .. "L/" .. mac)
      if not lease then
        log.debug("pool %s is full; no address for %s", self.name, mac)
        return nil
      end
    else
      -- This request looks again (below); the others keep the short way while it does.
      self.fullUntil = at + 1
    end
  end
  local function decide(run)
    run.hostname = hostname -- written on the holder record by Run:take
    return self:_decide(run, method, mac, wanted, at)
  end
  local ip, reason = self:_transact(decide)
  if not ip and reason then
    -- No free address by the hint; other daemons may have freed some since it was made. Refresh it
    -- (one scan, at most once a second) and try once more; after "busy" the attempt's reads alone
    -- have moved the hint on.
    -- (No hint yet: another request is making the first one; this one does not scan as well.)
    local refresh = self.hintAt ~= nil and at - self.hintAt >= 1
    if refresh then self:_refreshHint(at) end
    if refresh or reason == "busy" then ip, reason = self:_transact(decide) end
  end
  if not ip then
    if reason == "full" then self.fullUntil = at + 1 end
    if reason then log.warning("pool %s is exhausted; no address for %s", self.name, mac) end
    return nil
  end
  self.fullUntil = nil
  return ip
end

--- Frees the lease of `mac` (an administrator's "release"); returns its address, or nil when it
--- held none in this pool.
function Pool:release(mac)
  self.fullUntil = nil -- an address may come free
  local canonical = (MAC and MAC.parse and MAC.parse(mac)) or mac
  local ip = self:_transact(function(run)
    local lease = run:lease(canonical)
    if lease then
      run:set(self:_addressKey(lease.ip), nil)
      run.learned[lease.ip] = false
    end
    run:index(canonical, nil) -- also a stale index
    return lease and lease.ip
  end)
  if ip then log.info("pool %s: released %s from %s", self.name, ip, canonical) end
  return ip
end

--- Sets T1/T2 on replies built from this pool's definitions when discourage_renewals is on.
function Pool:loadDHCPPacket(packet, definition)
  if not self.discourage_renewals or not definition then return end
  local extra = definition.extra
  if not extra or extra.dynamism_pool ~= self.name then return end
  local t = math.floor(self.lease_time * 0.975)
  packet:setOption("renewal_time_value", t)
  packet:setOption("rebinding_time_value", t)
end

--- Removes holders whose address can be reused and ended quarantines, rewrites old-layout records,
--- drops stale L/ entries and the old V counter; at most M.SWEEP_BATCH changes, each a
--- compare-and-set against the record the scan read (so one that another daemon changed since is
--- left alone, and two daemons sweeping at once do no harm). Its scan also refreshes the hint and
--- the remembered records. Returns how many addresses it freed.
function Pool:sweep()
  self.fullUntil = nil -- the scan below refreshes the hint
  local clock = now()
  for mac, held in pairs(self.granted) do
    if clock >= held.expires then self.granted[mac] = nil end
  end
  local at = now()
  local holders, addresses, leases, macs, counter, tokens = self:_scanAll()
  local function leaseOf(mac) return leases[mac] end
  local hint, work, known = {}, {}, {}
  for _, ip in ipairs(addresses) do
    local key = self:_addressKey(ip)
    known[key] = { value = holders[ip], token = tokens[key] }
    local holder = effectiveHolder(holders[ip], ip, leaseOf)
    local freeAt = holder and self:_freeAt(holder)
    if not holder or at >= freeAt then
      work[#work + 1] = { key = key, ip = ip }
    elseif holder.old_layout then
      work[#work + 1] = { key = key, value = { mac = holder.mac, state = holder.state, expires = holder.expires } }
    end
    if holder and freeAt > at then hint[ip] = freeAt end
  end
  for _, mac in ipairs(macs) do
    local key = self:_leaseKey(mac)
    known[key] = { value = leases[mac], token = tokens[key] }
    local lease = leases[mac]
    local ip = type(lease) == "table" and type(lease.ip) == "string" and IPv4.parse(lease.ip) or nil
    local holder = ip and effectiveHolder(holders[ip], ip, leaseOf)
    if not (holder and holder.mac == mac) then work[#work + 1] = { key = key } end
  end
  self.hint, self.hintAt, self.known = hint, at, known
  if counter then store.delete(self.prefix .. "V") end
  local freed = 0
  for index = 1, math.min(#work, M.SWEEP_BATCH) do
    local item = work[index]
    known[item.key] = nil
    if store.cas(item.key, item.value, tokens[item.key]) and item.ip then
      freed = freed + 1
      hint[item.ip] = nil
    end
  end
  return freed
end

--- The lease table from one scan: { {mac=, ip=, state=, expires=, hostname=}, ..., quarantined = { {ip=, until=, declined_by=}, ... } }
--- in address order; state is "expired" once expires has passed (the address stays the client's
--- for reclaim_after more seconds).
function Pool:leases()
  local rows, quarantined = {}, {}
  local at = now()
  local holders, addresses, leases = self:_scanAll()
  local function leaseOf(mac) return leases[mac] end
  for _, ip in ipairs(addresses) do
    local holder = self.inPool[ip] and effectiveHolder(holders[ip], ip, leaseOf)
    if holder and holder.quarantined then
      if at < holder.quarantined then quarantined[#quarantined + 1] = { ip = ip, ["until"] = holder.quarantined, declined_by = holder.declined_by } end
    elseif holder then
      local state = holder.state
      if at >= holder.expires then state = "expired" end
      rows[#rows + 1] = { mac = holder.mac, ip = ip, state = state, expires = holder.expires, hostname = self:hostname(ip) }
    end
  end
  rows.quarantined = quarantined
  return rows
end

--- Counts from one scan: {name=, size=, leased=, expired=, offered=, quarantined=, free=}. leased:
--- bound and not expired; expired: bound, expired, still kept for its client (reclaim_after);
--- free = size minus the others (addresses anyone may take now).
function Pool:stats()
  local at = now()
  local holders, addresses, leases = self:_scanAll()
  local function leaseOf(mac) return leases[mac] end
  local counts = { name = self.name, size = #self.addresses, leased = 0, expired = 0, offered = 0, quarantined = 0 }
  for _, ip in ipairs(addresses) do
    local holder = self.inPool[ip] and effectiveHolder(holders[ip], ip, leaseOf)
    if holder and at < self:_freeAt(holder) then
      if holder.quarantined then counts.quarantined = counts.quarantined + 1
      elseif holder.state == "offered" then counts.offered = counts.offered + 1
      elseif at < holder.expires then counts.leased = counts.leased + 1
      else counts.expired = counts.expired + 1 end
    end
  end
  counts.free = counts.size - counts.leased - counts.expired - counts.offered - counts.quarantined
  return counts
end

function Pool:show_leases_csv()
  local lines = { "pool,mac,ip,state,expires,hostname" }
  local rows = self:leases()
  for _, row in ipairs(rows) do
    lines[#lines + 1] = string.format("%s,%s,%s,%s,%s,%s", self.name, row.mac, row.ip, row.state,
      os.date("!%Y-%m-%dT%H:%M:%SZ", row.expires), row.hostname or "")
  end
  for _, row in ipairs(rows.quarantined) do
    lines[#lines + 1] = string.format("%s,%s,%s,quarantined,%s,", self.name, row.declined_by or "", row.ip,
      os.date("!%Y-%m-%dT%H:%M:%SZ", row["until"]))
  end
  return table.concat(lines, "\n") .. "\n"
end

local function escape(text)
  return (tostring(text):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end
M.escape = escape

function Pool:show_leases_xhtml()
  local rows = self:leases()
  local out = { string.format('<table class="dynamism"><caption>%s: %s, %d addresses, %d leased, %d quarantined</caption>',
    escape(self.name), escape(self.subnet), #self.addresses, #rows, #rows.quarantined),
    "<thead><tr><th>MAC</th><th>IP</th><th>State</th><th>Expires (UTC)</th><th>Hostname</th></tr></thead><tbody>" }
  for _, row in ipairs(rows) do
    out[#out + 1] = string.format("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
      escape(row.mac), escape(row.ip), escape(row.state), os.date("!%Y-%m-%d %H:%M:%S", row.expires), escape(row.hostname or ""))
  end
  for _, row in ipairs(rows.quarantined) do
    out[#out + 1] = string.format("<tr><td>%s</td><td>%s</td><td>quarantined</td><td>%s</td><td></td></tr>",
      escape(row.declined_by or ""), escape(row.ip), os.date("!%Y-%m-%d %H:%M:%S", row["until"]))
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out)
end

-- The extension: pools from extensions.dynamism, web elements, the sweep --------------------------

local config = extensions.dynamism:extension_config_merge({
  pools = {},
  DISPLAY_IN_DASHBOARD = true,
  DASHBOARD_ORDERING = nil,
  CSV_PATH = "/ca/uguu/puukusoft/staticDHCPd/extension/dynamism/leases.csv",
  SWEEP_INTERVAL = 60,
  PUBLIC = false,             -- false: CSV_PATH follows WEB_DASHBOARD_SECURE, like the dashboard;
                               -- true: served without credentials even when it is true
                               -- (for a scraper without digest support)
}, {})
if type(config.PUBLIC) ~= "boolean" then error("extensions.dynamism.PUBLIC must be true or false", 2) end

M.pools = {}
for index, options in ipairs(config.pools) do
  if type(options) ~= "table" then error("extensions.dynamism.pools[" .. index .. "] must be a table of pool options", 2) end
  local pool = M.DynamicPool(options)
  for _, other in ipairs(M.pools) do
    if other.name == pool.name then error("extensions.dynamism.pools: two pools are named " .. pool.name, 2) end
  end
  M.pools[#M.pools + 1] = pool
  M.pools[pool.name] = pool
end

--- The pool serving a request: one whose relays (or, without a list, whose subnet) hold relay_ip;
--- for directly attached clients, the first pool not marked `direct = false`.
function M.poolFor(relay_ip)
  for _, pool in ipairs(M.pools) do
    if relay_ip then
      if pool.relays then
        for _, relay in ipairs(pool.relays) do if IPv4.equals(relay, relay_ip) then return pool end end
      elseif IPv4.inSubnet(relay_ip, pool.subnet) then
        return pool
      end
    elseif pool.direct ~= false then
      return pool
    end
  end
  return nil
end

function M.handle(packet, method, mac, client_ip, relay_ip, port)
  local pool = M.poolFor(relay_ip)
  if not pool then return nil end
  return pool:handle(method, packet, mac, client_ip)
end

function M.loadDHCPPacket(packet, method, mac, definition)
  if not definition then return end
  local extra = definition.extra
  local pool = extra and M.pools[extra.dynamism_pool]
  if pool then pool:loadDHCPPacket(packet, definition) end
end

function M.csv()
  local parts = {}
  for index, pool in ipairs(M.pools) do
    local text = pool:show_leases_csv()
    if index > 1 then text = text:gsub("^[^\n]*\n", "") end
    parts[#parts + 1] = text
  end
  if #parts == 0 then return "pool,mac,ip,state,expires,hostname\n" end
  return table.concat(parts)
end

--- Per pool, in order: { {name=, size=, leased=, expired=, offered=, quarantined=, free=}, ... } (one scan each).
function M.stats()
  local out = {}
  for _, pool in ipairs(M.pools) do out[#out + 1] = pool:stats() end
  return out
end

if #M.pools > 0 then
  if config.DISPLAY_IN_DASHBOARD then
    callbacks.webAddDashboard("dynamism", "leases", function()
      local parts = {}
      for _, pool in ipairs(M.pools) do parts[#parts + 1] = pool:show_leases_xhtml() end
      return table.concat(parts)
    end, config.DASHBOARD_ORDERING)
  end
  if config.CSV_PATH then
    callbacks.webAddMethod(config.CSV_PATH, function()
      return "text/csv; charset=utf-8", M.csv()
    end, { hidden = false, public = config.PUBLIC, module = "dynamism", name = "leases.csv" })
  end
  -- /metrics: each pool's size and use (one scan of the store per pool per scrape).
  callbacks.metricsAddHandler(function()
    local samples = {}
    local function add(name, help, value, pool) samples[#samples + 1] = { name = name, help = help, value = value, labels = { pool = pool } } end
    for _, counts in ipairs(M.stats()) do
      add("pool_addresses", "Addresses in a dynamism pool.", counts.size, counts.name)
      add("pool_leased", "Addresses of a dynamism pool bound to a client (lease not expired).", counts.leased, counts.name)
      add("pool_offered", "Addresses of a dynamism pool offered and not yet requested.", counts.offered, counts.name)
      add("pool_expired", "Addresses of a dynamism pool whose lease expired but is kept for its client (reclaim_after).", counts.expired, counts.name)
      add("pool_quarantined", "Addresses of a dynamism pool out of use after a DECLINE.", counts.quarantined, counts.name)
      add("pool_free", "Addresses of a dynamism pool free to give.", counts.free, counts.name)
      samples[#samples + 1] = { name = "pool_requests_shed_total", type = "counter", value = M.pools[counts.name].shedTotal,
        help = "Requests a dynamism pool left unanswered because the shared store was behind (dynamism.SHED_WAITING).",
        labels = { pool = counts.name } }
    end
    return samples
  end)
  local elapsed = 0
  callbacks.systemAddTickHandler(function()
    elapsed = elapsed + 1
    if elapsed < config.SWEEP_INTERVAL then return end
    elapsed = 0
    for _, pool in ipairs(M.pools) do
      if pool.shed > 0 then
        log.warning("pool %s: the store was behind; %d requests (DISCOVERs first) went unanswered in the last %d s so that those already waiting were answered in time (their clients ask again)",
          pool.name, pool.shed, config.SWEEP_INTERVAL)
        pool.shed = 0
      end
    end
    for _, pool in ipairs(M.pools) do
      -- One pool's failure (the store unreachable, or busy past its retries) does not stop the others.
      local ok, removed = pcall(pool.sweep, pool)
      if not ok then
        log.warning("pool %s: sweep failed: %s", pool.name, tostring(removed))
      elseif removed > 0 then
        log.debug("pool %s: reclaimed %d addresses", pool.name, removed)
      end
    end
  end)
end

return M
