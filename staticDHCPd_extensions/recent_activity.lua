-- recent_activity: the latest DHCP event per MAC, as a dashboard table (docs/SCRIPTING.md, "Extensions").
--
--   function init()
--     extensions.recent_activity.MAX_EVENTS = 20       -- optional settings, defaults below
--     require "recent_activity"
--   end

local M = {}
local log = logging.getLogger("extension.recent_activity")

local config = extensions.recent_activity:extension_config_merge({
  MAX_EVENTS = 10,             -- events kept (one per MAC, newest first)
  MAX_AGE = 300,               -- seconds an event stays listed
  DISPLAY_IN_DASHBOARD = true, -- a dashboard element "recent activity | dhcp"
  DASHBOARD_ORDERING = nil,
  METHOD_PATH = "/ca/uguu/puukusoft/staticDHCPd/extension/recent-activity/render", -- a TEMPLATE method (false: none)
  CLEAR_ON_REINIT = false,
  PUBLIC = false,             -- false: METHOD_PATH follows WEB_DASHBOARD_SECURE, like the dashboard;
                               -- true: served without credentials even when it is true
                               -- (docs/SCRIPTING.md, webAddMethod, "public")
}, {})
if type(config.PUBLIC) ~= "boolean" then error("extensions.recent_activity.PUBLIC must be true or false", 2) end

for _, key in ipairs({"MAX_EVENTS", "MAX_AGE"}) do
  if math.type(config[key]) ~= "integer" or config[key] < 1 then
    error("extensions.recent_activity." .. key .. " must be a positive integer, got " .. tostring(config[key]), 2)
  end
end

-- The clock; tests replace it.
M.clock = os.time
local events = {} -- newest first: { time, mac, ip, subnet, serial, method, port }

function M.record(statistics)
  if not statistics.mac or not statistics.method then return end -- non-DHCP datagrams
  for index, event in ipairs(events) do
    if event.mac == statistics.mac then table.remove(events, index); break end
  end
  table.insert(events, 1, {
    time = M.clock(), mac = statistics.mac, ip = statistics.ip, subnet = statistics.subnet,
    serial = statistics.serial, method = statistics.method, port = statistics.port,
  })
  while #events > config.MAX_EVENTS do events[#events] = nil end
end

--- The events still young enough to show, newest first.
function M.events()
  local horizon = M.clock() - config.MAX_AGE
  local shown = {}
  for _, event in ipairs(events) do
    if event.time >= horizon then shown[#shown + 1] = event end
  end
  return shown
end

function M.clear() events = {} end

local function escape(text)
  return (tostring(text):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

function M.render()
  local shown = M.events()
  if #shown == 0 then return "<p>No DHCP activity in the last " .. config.MAX_AGE .. " seconds.</p>" end
  local out = { '<table class="recent-activity"><thead><tr><th>Event</th><th>Port</th><th>MAC</th><th>IP</th>'
    .. "<th>Subnet</th><th>Serial</th><th>Time</th></tr></thead><tbody>" }
  for _, event in ipairs(shown) do
    out[#out + 1] = string.format("<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
      escape(event.method), escape(event.port or ""), escape(event.mac), escape(event.ip or ""),
      escape(event.subnet or ""), escape(event.serial or ""), os.date("%Y-%m-%d %H:%M:%S", event.time))
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out)
end

callbacks.statsAddHandler(M.record)
if config.DISPLAY_IN_DASHBOARD then
  callbacks.webAddDashboard("recent activity", "dhcp", function() return M.render() end, config.DASHBOARD_ORDERING)
end
if config.METHOD_PATH then
  callbacks.webAddMethod(config.METHOD_PATH, function() return M.render() end,
    { hidden = config.DISPLAY_IN_DASHBOARD, public = config.PUBLIC, module = "recent activity", name = "dhcp", display_mode = callbacks.WEB_METHOD_TEMPLATE })
end
if config.CLEAR_ON_REINIT then
  callbacks.systemAddReinitHandler(function() M.clear(); log.debug("cleared on reinitialisation") end)
end

return M
