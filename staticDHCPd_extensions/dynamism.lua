-- dynamism: dynamic address pools for clients no database knows, answered from handleUnknownMAC.
--
-- Unlike the original extension, leases live in `store` (STATE_DIRECTORY), so they survive restarts
-- and reloads; a declined address is quarantined instead of being handed out again at once.
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
-- Store layout, per pool P: "dynamism/P/L/<mac>" -> {ip, state = "offered"|"bound", expires},
-- "dynamism/P/A/<ip>" -> {mac, ...} or {quarantined = until}, "dynamism/P/V" -> change counter.
-- Every change is one store.transaction, and "L/<mac>" exists exactly when "A/<ip>" names that MAC.

local M = {}
local Pool = {}
Pool.__index = Pool

local EXTENSION = "dynamism"
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
  self.cursor = 1
  self.version = -1
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

-- State ----------------------------------------------------------------------------------------

--- Brings the in-memory copy up to date with the store (another script generation may have
--- written since); called inside a transaction.
function Pool:_sync()
  local version = store.get(self.prefix .. "V") or 0
  if version == self.version then return end
  self.byMAC, self.byIP = {}, {}
  for _, entry in ipairs(store.scan(self.prefix .. "L/")) do
    self.byMAC[entry.key:sub(#self.prefix + 3)] = entry.value
  end
  for _, entry in ipairs(store.scan(self.prefix .. "A/")) do
    self.byIP[fromIPKey(entry.key:sub(#self.prefix + 3))] = entry.value
  end
  self.version = version
end

function Pool:_bump()
  self.version = self.version + 1
  store.put(self.prefix .. "V", self.version)
end

function Pool:_setLease(mac, lease)
  self.byMAC[mac] = lease
  store.put(self.prefix .. "L/" .. mac, lease)
  local holder = { mac = mac }
  self.byIP[lease.ip] = holder
  store.put(self.prefix .. "A/" .. ipKey(lease.ip), holder)
end

function Pool:_dropLease(mac)
  local lease = self.byMAC[mac]
  if not lease then return end
  self.byMAC[mac] = nil
  store.delete(self.prefix .. "L/" .. mac)
  local holder = self.byIP[lease.ip]
  if holder and holder.mac == mac then
    self.byIP[lease.ip] = nil
    store.delete(self.prefix .. "A/" .. ipKey(lease.ip))
  end
end

--- Whether the address may be given to `mac` now.
function Pool:_isFree(ip, mac, at)
  if not self.inPool[ip] then return false end
  local holder = self.byIP[ip]
  if not holder then return true end
  if holder.quarantined then return at >= holder.quarantined end
  if holder.mac == mac then return true end
  local lease = self.byMAC[holder.mac]
  if not lease or lease.ip ~= ip then return true end
  if lease.state == "offered" then return at >= lease.expires end
  return at >= lease.expires + self.reclaim_after
end

--- Takes `ip` for `mac`, evicting an expired holder or an ended quarantine.
function Pool:_take(ip, mac, state, at)
  local holder = self.byIP[ip]
  if holder and holder.mac and holder.mac ~= mac then self:_dropLease(holder.mac) end
  if holder and holder.quarantined then
    self.byIP[ip] = nil
    store.delete(self.prefix .. "A/" .. ipKey(ip))
  end
  local current = self.byMAC[mac]
  if current and current.ip ~= ip then self:_dropLease(mac) end
  local lease = { ip = ip, state = state, expires = at + (state == "bound" and self.lease_time or self.offer_time) }
  self:_setLease(mac, lease)
  return lease
end

function Pool:_firstFree(mac, at)
  local count = #self.addresses
  for step = 0, count - 1 do
    local position = (self.cursor + step - 1) % count + 1
    local ip = self.addresses[position]
    if self:_isFree(ip, mac, at) then
      self.cursor = position % count + 1
      return ip
    end
  end
  return nil
end

-- Definitions -----------------------------------------------------------------------------------

function Pool:hostname(ip)
  if not self.hostname_prefix then return nil end
  return self.hostname_prefix .. "-" .. ip:gsub("%.", "-")
end

function Pool:definition(ip)
  return Definition{
    ip = ip, lease_time = self.lease_time, subnet = self.subnet, serial = self.serial,
    hostname = self:hostname(ip), gateways = self.gateways or self.gateway, subnet_mask = self.subnet_mask,
    broadcast_address = self.broadcast_address, domain_name = self.domain_name,
    domain_name_servers = self.domain_name_servers, ntp_servers = self.ntp_servers,
    extra = { dynamism_pool = self.name },
  }
end

-- Requests --------------------------------------------------------------------------------------

local function wantedAddress(packet, method, client_ip)
  if client_ip then return client_ip end
  if packet then
    local requested = packet:getOption("requested_ip_address", true)
    if requested then return requested end
    if method == "REQUEST:RENEW" or method == "REQUEST:REBIND" then
      return packet:getOption("ciaddr", true)
    end
  end
  return nil
end

--- handle(method, packet, mac, client_ip) -> Definition or nil, as the original's DynamicPool.handle.
function Pool:handle(method, packet, mac, client_ip)
  local at = now()
  local wanted = wantedAddress(packet, method, client_ip)
  local result
  store.transaction(function()
    self:_sync()
    local lease = self.byMAC[mac]
    if lease and self.byIP[lease.ip] and self.byIP[lease.ip].mac ~= mac then lease = nil end
    local changed = false
    if method == "DISCOVER" then
      if lease and (lease.state == "offered" or at < lease.expires + self.reclaim_after) then
        if lease.state == "offered" then lease = self:_take(lease.ip, mac, "offered", at); changed = true end
        result = lease.ip
      else
        local ip = (wanted and self:_isFree(wanted, mac, at)) and wanted or self:_firstFree(mac, at)
        if ip then self:_take(ip, mac, "offered", at); changed = true; result = ip end
      end
    elseif method:sub(1, 8) == "REQUEST:" then
      if lease then
        if wanted and wanted ~= lease.ip then
          log.info("%s asks for %s but holds %s in pool %s; not answering", mac, wanted, lease.ip, self.name)
        else
          self:_take(lease.ip, mac, "bound", at); changed = true; result = lease.ip
        end
      elseif wanted then
        if self:_isFree(wanted, mac, at) then self:_take(wanted, mac, "bound", at); changed = true; result = wanted end
      else
        local ip = self:_firstFree(mac, at)
        if ip then self:_take(ip, mac, "bound", at); changed = true; result = ip end
      end
    elseif method == "RELEASE" or method == "DECLINE" then
      if lease and (not wanted or wanted == lease.ip) then
        result = lease.ip
        self:_dropLease(mac)
        if method == "DECLINE" then
          local holder = { quarantined = at + self.quarantine_time, declined_by = mac }
          self.byIP[lease.ip] = holder
          store.put(self.prefix .. "A/" .. ipKey(lease.ip), holder)
          log.warning("%s declined %s (pool %s): quarantined for %d s", mac, lease.ip, self.name, self.quarantine_time)
        end
        changed = true
      end
    elseif method == "INFORM" then
      if client_ip and self.inPool[client_ip] then result = client_ip end
    end
    if changed then self:_bump() end
  end)
  if not result then
    if method == "DISCOVER" then log.warning("pool %s is exhausted; no address for %s", self.name, mac) end
    return nil
  end
  return self:definition(result)
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

--- Removes leases whose address can be reused and ended quarantines; returns how many.
function Pool:sweep()
  local at, removed = now(), 0
  store.transaction(function()
    self:_sync()
    for mac, lease in pairs(self.byMAC) do
      if (lease.state == "offered" and at >= lease.expires) or (lease.state == "bound" and at >= lease.expires + self.reclaim_after) then
        self:_dropLease(mac)
        removed = removed + 1
      end
    end
    for ip, holder in pairs(self.byIP) do
      if holder.quarantined and at >= holder.quarantined then
        self.byIP[ip] = nil
        store.delete(self.prefix .. "A/" .. ipKey(ip))
        removed = removed + 1
      end
    end
    if removed > 0 then self:_bump() end
  end)
  return removed
end

--- The lease table: { {mac=, ip=, state=, expires=, hostname=}, ..., quarantined = { {ip=, until=}, ... } } in address order.
function Pool:leases()
  local rows, quarantined = {}, {}
  local at = now()
  store.transaction(function() self:_sync() end)
  for _, ip in ipairs(self.addresses) do
    local holder = self.byIP[ip]
    if holder and holder.quarantined then
      if at < holder.quarantined then quarantined[#quarantined + 1] = { ip = ip, ["until"] = holder.quarantined, declined_by = holder.declined_by } end
    elseif holder then
      local lease = self.byMAC[holder.mac]
      if lease and lease.ip == ip then
        local state = lease.state
        if at >= lease.expires then state = "expired" end
        rows[#rows + 1] = { mac = holder.mac, ip = ip, state = state, expires = lease.expires, hostname = self:hostname(ip) }
      end
    end
  end
  rows.quarantined = quarantined
  return rows
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
}, {})

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
    end, { hidden = false, module = "dynamism", name = "leases.csv" })
  end
  local elapsed = 0
  callbacks.systemAddTickHandler(function()
    elapsed = elapsed + 1
    if elapsed < config.SWEEP_INTERVAL then return end
    elapsed = 0
    for _, pool in ipairs(M.pools) do
      local removed = pool:sweep()
      if removed > 0 then log.debug("pool %s: reclaimed %d addresses", pool.name, removed) end
    end
  end)
end

return M
