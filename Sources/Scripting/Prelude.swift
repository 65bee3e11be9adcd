import CLua

/// The parts of the script environment that are plain Lua: `logger`/`writeLog`, `callbacks`
/// (registrations are kept in the runtime's private table, where Swift reads them) and the
/// `extensions` namespace (docs/SCRIPTING.md, "Extensions"). It runs once, before conf.lua, with
/// the private table as its argument.
let preludeSource = #"""
local private = ...
local log = private.log
local type, tostring, select, error, ipairs, pairs, next, rawset, setmetatable =
      type, tostring, select, error, ipairs, pairs, next, rawset, setmetatable
local format = string.format

-- logging ---------------------------------------------------------------------------------------
-- Logging never raises into the hook that logs (docs/SCRIPTING.md, "Logging"): a bad format string
-- or arguments that do not match it still log the text and the arguments, joined with tostring,
-- plus a note naming the caller's line. `logger:info(...)` works like `logger.info(...)`.
local pcall, rawequal, concat = pcall, rawequal, table.concat
local getinfo = debug and debug.getinfo

local function show(value)
  local ok, text = pcall(tostring, value)
  if ok and type(text) == "string" then return text end
  return "<" .. type(value) .. ">"
end

-- "conf.lua:12": where the script called the logger, the file without its directory as the
-- operator knows it. Stack levels: 1 here, 2 message, 3 the logger function, 4 its caller (none of
-- them is a tail call, so none is skipped).
local function callerLocation()
  local info = getinfo and getinfo(4, "Sl")
  if not info then return "an unknown line" end
  local file = info.source:sub(1, 1) == "@" and info.source:match("([^/]*)$") or info.short_src
  return file .. ":" .. tostring(info.currentline)
end

-- The conversions in a format string ("%%" is a literal percent sign, not one).
local function conversions(template)
  local count = 0
  for spec in template:gmatch("%%.") do
    if spec ~= "%%" then count = count + 1 end
  end
  return count
end

local function message(text, ...)
  local count = select("#", ...)
  if count == 0 then return show(text) end
  local template = show(text)
  local ok, formatted = pcall(format, template, ...)
  local expected = conversions(template)
  -- string.format ignores surplus arguments; Python's % refused them, and they would be lost.
  if ok and expected == count then return formatted end
  local problem = ok and (count .. " arguments for " .. expected .. " conversions") or show(formatted)
  local parts = { template }
  for index = 1, count do parts[#parts + 1] = show((select(index, ...))) end
  return concat(parts, " ") .. " [the log call at " .. callerLocation() .. " could not format its arguments: "
    .. problem .. "]"
end

local function newLogger(name)
  local l = {}
  -- One function per level; the colon form passes the logger itself first, which is skipped.
  local function level(number)
    return function(first, ...)
      if rawequal(first, l) then
        log(number, name, message(...))
      else
        log(number, name, message(first, ...))
      end
    end
  end
  l.debug = level(0)
  l.info = level(1)
  l.warning = level(2)
  l.warn = l.warning
  l.error = level(3)
  l.critical = level(4)
  l.getLogger = function(first, ...)
    if rawequal(first, l) then return newLogger(...) end
    return newLogger(first)
  end
  l.name = name
  return l
end
logger = newLogger("conf")
logging = { getLogger = function(first, ...)
  if rawequal(first, logging) then return newLogger(...) end
  return newLogger(first)
end }
writeLog = function(text, ...) log(2, "conf", message(text, ...)) end

-- callbacks ------------------------------------------------------------------------------------
private.reinit, private.tick, private.stats, private.metrics = {}, {}, {}, {}
private.headers, private.dashboard, private.methods = {}, {}, {}
-- A web method's request headers arrive with lower-case names; this lets headers["User-Agent"]
-- find them too, as the original's case-insensitive header dict did (docs/SCRIPTING.md).
private.headerNames = { __index = function(t, k) if type(k) == "string" then return rawget(t, k:lower()) end end }
private.byId, private.nextId = {}, 1

local function requireFunction(what, callback)
  if type(callback) ~= "function" then
    error(what .. ": the callback must be a function, got " .. type(callback), 3)
  end
end

local function indexOf(list, callback)
  for index, entry in ipairs(list) do
    if entry == callback or (type(entry) == "table" and entry.callback == callback) then return index end
  end
  return nil
end

-- True, with a warning logged, when the callback is in the list already (it is not added twice).
local function registeredAlready(list, what, callback)
  if not indexOf(list, callback) then return false end
  log(3, "callbacks", what .. ": this callback is already registered; not added again")
  return true
end

local function add(list, what, callback)
  requireFunction(what, callback)
  if registeredAlready(list, what, callback) then return false end
  list[#list + 1] = callback
  return true
end

local function remove(list, what, callback)
  local index = indexOf(list, callback)
  if not index then
    log(3, "callbacks", what .. ": this callback is not registered")
    return false
  end
  local entry = table.remove(list, index)
  if type(entry) == "table" and entry.id then private.byId[entry.id] = nil end
  return true
end

local function newId(entry)
  local id = private.nextId
  private.nextId = id + 1
  entry.id = id
  private.byId[id] = entry
  return id
end

local function optionalBoolean(what, name, value, default)
  if value == nil then return default end
  if type(value) ~= "boolean" then error(what .. ": " .. name .. " must be a boolean, got " .. type(value), 4) end
  return value
end

local function optionalString(what, name, value)
  if value == nil then return nil end
  if type(value) ~= "string" then error(what .. ": " .. name .. " must be a string, got " .. type(value), 4) end
  return value
end

callbacks = {
  WEB_METHOD_DASHBOARD = 1,
  WEB_METHOD_TEMPLATE = 2,
  WEB_METHOD_RAW = 3,
}

function callbacks.systemAddReinitHandler(cb) return add(private.reinit, "systemAddReinitHandler", cb) end
function callbacks.systemRemoveReinitHandler(cb) return remove(private.reinit, "systemRemoveReinitHandler", cb) end
function callbacks.systemAddTickHandler(cb) return add(private.tick, "systemAddTickHandler", cb) end
function callbacks.systemRemoveTickHandler(cb) return remove(private.tick, "systemRemoveTickHandler", cb) end
function callbacks.statsAddHandler(cb) return add(private.stats, "statsAddHandler", cb) end
function callbacks.statsRemoveHandler(cb) return remove(private.stats, "statsRemoveHandler", cb) end
function callbacks.metricsAddHandler(cb) return add(private.metrics, "metricsAddHandler", cb) end
function callbacks.metricsRemoveHandler(cb) return remove(private.metrics, "metricsRemoveHandler", cb) end

-- Every metrics handler's samples in one list, for /metrics; a failing handler gives {error=}.
function private.collectMetrics()
  local all, handlers = {}, { table.unpack(private.metrics) }
  for _, handler in ipairs(handlers) do
    local ok, samples = pcall(handler)
    if not ok then
      all[#all + 1] = { error = tostring(samples) }
    elseif type(samples) == "table" then
      for _, sample in ipairs(samples) do all[#all + 1] = sample end
    elseif samples ~= nil then
      all[#all + 1] = { error = "a metrics handler returned a " .. type(samples) .. "; expected a list of samples" }
    end
  end
  return all
end

function callbacks.webAddHeader(cb)
  requireFunction("webAddHeader", cb)
  if registeredAlready(private.headers, "webAddHeader", cb) then return false end
  local entry = { callback = cb }
  newId(entry)
  private.headers[#private.headers + 1] = entry
  return true
end
function callbacks.webRemoveHeader(cb) return remove(private.headers, "webRemoveHeader", cb) end

function callbacks.webAddDashboard(module, name, cb, ordering)
  local what = "webAddDashboard"
  if type(module) ~= "string" then error(what .. ": module must be a string, got " .. type(module), 2) end
  if type(name) ~= "string" then error(what .. ": name must be a string, got " .. type(name), 2) end
  requireFunction(what, cb)
  if ordering ~= nil and math.type(ordering) ~= "integer" then
    error(what .. ": ordering must be an integer or nil, got " .. type(ordering), 2)
  end
  if registeredAlready(private.dashboard, what, cb) then return false end
  if ordering == nil then
    local highest
    for _, entry in ipairs(private.dashboard) do
      if highest == nil or entry.ordering > highest then highest = entry.ordering end
    end
    ordering = highest and highest + 1 or 0
  end
  local entry = { module = module, name = name, callback = cb, ordering = ordering }
  newId(entry)
  private.dashboard[#private.dashboard + 1] = entry
  return true
end
function callbacks.webRemoveDashboard(cb) return remove(private.dashboard, "webRemoveDashboard", cb) end

-- webAddMethod(path, cb, cacheable, hidden, secure, module, name, confirm, display_mode), or
-- webAddMethod(path, cb, { cacheable = ..., hidden = ..., ... }) since Lua has no keyword arguments.
-- Two options exist only in the table form (docs/SCRIPTING.md, webAddMethod): public = true serves
-- the method without credentials even when WEB_DASHBOARD_SECURE = true, and json_api = true lets
-- its POSTs go without a CSRF token, provided they are Content-Type: application/json.
-- The keys its options table accepts: a new option is added here, and read below.
local webMethodOptionNames = { "cacheable", "hidden", "secure", "module", "name", "confirm", "display_mode",
  "public", "json_api" }
local webMethodOptions = {}
for _, key in ipairs(webMethodOptionNames) do webMethodOptions[key] = true end

-- A misspelt option would otherwise be dropped in silence (docs/SCRIPTING.md, "Other globals").
local function checkWebMethodOptions(what, options)
  for key in pairs(options) do
    if not webMethodOptions[key] then
      error(what .. ": unknown option " .. (type(key) == "string" and ("'" .. key .. "'") or show(key))
        .. "; the options are " .. concat(webMethodOptionNames, ", "), 3)
    end
  end
end

function callbacks.webAddMethod(path, cb, cacheable, hidden, secure, module, name, confirm, display_mode)
  local what = "webAddMethod"
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    error(what .. ": path must be a string starting with '/', got " .. (type(path) == "string" and ("'" .. path .. "'") or type(path)), 2)
  end
  requireFunction(what, cb)
  local public, json_api
  if type(cacheable) == "table" then
    local o = cacheable
    checkWebMethodOptions(what, o)
    cacheable, hidden, secure, module, name, confirm, display_mode, public, json_api =
      o.cacheable, o.hidden, o.secure, o.module, o.name, o.confirm, o.display_mode, o.public, o.json_api
  end
  local entry = {
    path = path, callback = cb,
    cacheable = optionalBoolean(what, "cacheable", cacheable, false),
    hidden = optionalBoolean(what, "hidden", hidden, true),
    secure = optionalBoolean(what, "secure", secure, false),
    public = optionalBoolean(what, "public", public, false),
    json_api = optionalBoolean(what, "json_api", json_api, false),
    module = optionalString(what, "module", module),
    name = optionalString(what, "name", name),
    confirm = optionalBoolean(what, "confirm", confirm, false),
    display_mode = display_mode == nil and 3 or display_mode,
  }
  if entry.display_mode ~= 1 and entry.display_mode ~= 2 and entry.display_mode ~= 3 then
    error(what .. ": display_mode must be one of callbacks.WEB_METHOD_DASHBOARD, _TEMPLATE, _RAW (1, 2, 3), got " .. tostring(display_mode), 2)
  end
  if entry.secure and entry.public then
    error(what .. ": a method cannot be both secure (always asks for credentials) and public (never does)", 2)
  end
  if private.methods[path] then
    log(3, "callbacks", what .. ": a method is already registered at " .. path .. "; not added again")
    return false
  end
  newId(entry)
  private.methods[path] = entry
  return true
end

function callbacks.webRemoveMethod(path)
  local entry = private.methods[path]
  if not entry then
    log(3, "callbacks", "webRemoveMethod: no method is registered at " .. tostring(path))
    return false
  end
  private.methods[path] = nil
  private.byId[entry.id] = nil
  return true
end

-- log handlers (ours: the original's extensions attached to Python's root logger) ---------------
-- callbacks.logAddHandler(cb, minimum_level) / logRemoveHandler(cb): cb(record) receives every log
-- record at or above minimum_level ("DEBUG", "INFO", "WARN"/"WARNING", "ERROR", "CRITICAL" or 0..4;
-- default "WARNING") as { time, level, level_name, logger, message }. Records are delivered in
-- batches about once a second (with the tick), never from inside the call that logged them.
private.logHandlers = {}
local levelNumbers = { DEBUG = 0, INFO = 1, WARN = 2, WARNING = 2, ERROR = 3, CRITICAL = 4 }

local function updateLogLevel()
  local lowest
  for _, entry in ipairs(private.logHandlers) do
    if lowest == nil or entry.level < lowest then lowest = entry.level end
  end
  private.setLogLevel(lowest or -1)
end

function callbacks.logAddHandler(cb, minimum_level)
  local what = "logAddHandler"
  requireFunction(what, cb)
  local level = minimum_level
  if level == nil then level = 2
  elseif type(level) == "string" then level = levelNumbers[level:upper()]
  elseif math.type(level) ~= "integer" or level < 0 or level > 4 then level = nil end
  if level == nil then
    error(what .. ": minimum_level must be one of DEBUG, INFO, WARN, WARNING, ERROR, CRITICAL or 0..4, got " .. tostring(minimum_level), 2)
  end
  if registeredAlready(private.logHandlers, what, cb) then return false end
  private.logHandlers[#private.logHandlers + 1] = { callback = cb, level = level }
  updateLogLevel()
  return true
end

function callbacks.logRemoveHandler(cb)
  local removed = remove(private.logHandlers, "logRemoveHandler", cb)
  updateLogLevel()
  return removed
end

-- extensions ------------------------------------------------------------------------------------
local function isPublic(key)
  return type(key) ~= "string" or (key:sub(1, 1) ~= "_" and key:sub(1, 17) ~= "extension_config_")
end

local function newNamespace(path)
  local values = {}
  local namespace = {}
  local function dict()
    local copy = {}
    for key, value in pairs(values) do if isPublic(key) then copy[key] = value end end
    return copy
  end
  local methods = {
    extension_config_dict = dict,
    extension_config_iter = function() return next, dict(), nil end,
    extension_config_merge = function(defaults, required)
      local merged = {}
      for key, value in pairs(defaults or {}) do merged[key] = value end
      for key, value in pairs(dict()) do merged[key] = value end
      for _, key in ipairs(required or {}) do
        if merged[key] == nil then
          error("extensions." .. path .. ": required setting '" .. tostring(key) .. "' is not set", 3)
        end
      end
      return merged
    end,
  }
  return setmetatable(namespace, {
    __name = "extensions namespace",
    __index = function(_, key)
      local method = methods[key]
      if method then
        -- works as ns:method(...) and as ns.method(...)
        return function(first, ...)
          if first == namespace then return method(...) end
          return method(first, ...)
        end
      end
      local value = values[key]
      if value == nil then
        error("extensions." .. path .. " has no setting '" .. tostring(key) .. "'", 2)
      end
      return value
    end,
    __newindex = function(_, key, value) values[key] = value end,
    __pairs = function() return next, dict(), nil end,
  })
end

extensions = setmetatable({}, {
  __name = "extensions",
  __index = function(self, key)
    if type(key) ~= "string" then error("extensions: namespace names are strings, got " .. type(key), 2) end
    local namespace = newNamespace(key)
    rawset(self, key, namespace)
    return namespace
  end,
})
"""#
