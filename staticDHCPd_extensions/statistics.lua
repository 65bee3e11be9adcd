-- statistics: packets per method over time, averages over windows, lifetime totals; an inline SVG
-- graph on the dashboard (no JavaScript, nothing from a CDN) and the series as CSV and JSON.
--
--   function init()
--     extensions.statistics.QUANTISATION_INTERVAL = 60  -- optional settings, defaults below
--     require "statistics"
--   end

local M = {}

local BASE = "/ca/uguu/puukusoft/staticDHCPd/extension/stats/"
local config = extensions.statistics:extension_config_merge({
  QUANTISATION_INTERVAL = 300,                 -- seconds per bucket
  RETENTION_COUNT = 576,                       -- buckets kept (two days at 300 s)
  AVERAGES_WINDOWS = {0, 1, 2, 3, 12, 72, 288}, -- in buckets before the current one (0: the current one only)
  GRAPH_IN_DASHBOARD = true,
  AVERAGES_IN_DASHBOARD = true,
  LIFETIME_IN_DASHBOARD = true,
  DASHBOARD_ORDERING = nil,
  GRAPH_WIDTH = 720, GRAPH_HEIGHT = 200,
  CSV_PATH = BASE .. "graph.csv",              -- RAW methods (false: none)
  JSON_PATH = BASE .. "graph.json",
  PUBLIC = false,             -- false: the CSV and JSON follow WEB_DASHBOARD_SECURE, like the dashboard;
                               -- true: served without credentials even when it is true
                               -- (for a scraper without digest support)
}, {})
if type(config.PUBLIC) ~= "boolean" then error("extensions.statistics.PUBLIC must be true or false", 2) end

local function positiveInteger(key)
  if math.type(config[key]) ~= "integer" or config[key] < 1 then
    error("extensions.statistics." .. key .. " must be a positive integer, got " .. tostring(config[key]), 3)
  end
end
positiveInteger("QUANTISATION_INTERVAL")
positiveInteger("RETENTION_COUNT")
positiveInteger("GRAPH_WIDTH")
positiveInteger("GRAPH_HEIGHT")
if type(config.AVERAGES_WINDOWS) ~= "table" then error("extensions.statistics.AVERAGES_WINDOWS must be a list of integers", 2) end
for _, window in ipairs(config.AVERAGES_WINDOWS) do
  if math.type(window) ~= "integer" or window < 0 then
    error("extensions.statistics.AVERAGES_WINDOWS must hold non-negative integers, found " .. tostring(window), 2)
  end
end

local interval = config.QUANTISATION_INTERVAL
M.clock = os.time -- tests replace it
M.started = M.clock()

local buckets = {} -- oldest first: { start, counts = {method = n}, packets, discarded, other, time }
local lifetime = { counts = {}, packets = 0, discarded = 0, other = 0, time = 0 }

local function newBucket(start) return { start = start, counts = {}, packets = 0, discarded = 0, other = 0, time = 0 } end

--- The current bucket, after adding empty ones for quiet periods and dropping old ones.
local function current()
  local start = M.clock() // interval * interval
  local last = buckets[#buckets]
  if not last or last.start < start then
    local next = last and math.max(last.start + interval, start - interval * config.RETENTION_COUNT) or start
    for s = next, start, interval do buckets[#buckets + 1] = newBucket(s) end
    local excess = #buckets - config.RETENTION_COUNT
    if excess > 0 then buckets = table.move(buckets, excess + 1, #buckets, 1, {}) end
  end
  return buckets[#buckets]
end

function M.record(s)
  local bucket = current()
  for _, totals in ipairs({bucket, lifetime}) do
    totals.time = totals.time + (s.processing_time or 0)
    if not s.method then
      totals.other = totals.other + 1
    else
      totals.packets = totals.packets + 1
      totals.counts[s.method] = (totals.counts[s.method] or 0) + 1
      if not s.processed then totals.discarded = totals.discarded + 1 end
    end
  end
end

--- Every method seen in the retained buckets, sorted.
function M.methods()
  local seen, list = {}, {}
  for _, bucket in ipairs(buckets) do
    for method in pairs(bucket.counts) do
      if not seen[method] then seen[method] = true; list[#list + 1] = method end
    end
  end
  table.sort(list)
  return list
end

function M.series()
  current()
  return buckets
end

--- Averages over the last `window` buckets plus the current one: packets/s, discarded/s, other/s, mean ms.
function M.average(window)
  local series = M.series()
  local now = M.clock()
  local packets, discarded, other, time, seconds = 0, 0, 0, 0, 0
  for index = math.max(1, #series - window), #series do
    local bucket = series[index]
    packets, discarded, other, time = packets + bucket.packets, discarded + bucket.discarded, other + bucket.other, time + bucket.time
    local span = math.min(interval, now - bucket.start + 1)
    if bucket.start < M.started then span = math.max(1, math.min(span, bucket.start + interval - M.started)) end
    seconds = seconds + span
  end
  seconds = math.max(seconds, 1)
  local all = packets + other
  return { seconds = seconds, packets = packets, per_second = packets / seconds, discarded_per_second = discarded / seconds,
           other_per_second = other / seconds, mean_ms = all > 0 and time / all * 1000 or 0 }
end

function M.lifetime() return lifetime end

-- Rendering -------------------------------------------------------------------------------------

local function escape(text)
  return (tostring(text):gsub("[&<>\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;" }))
end

local function describeWindow(window)
  local seconds = (window + 1) * interval
  if seconds < 3600 then return string.format("%d min", seconds // 60) end
  if seconds < 86400 * 2 then return string.format("%g h", seconds / 3600) end
  return string.format("%g days", seconds / 86400)
end

local PALETTE = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" }

--- An inline SVG line chart of packets per second per method (and their total).
function M.graph()
  local series, methods = M.series(), M.methods()
  local width, height, left, bottom = config.GRAPH_WIDTH, config.GRAPH_HEIGHT, 48, 20
  local plotW, plotH = width - left - 8, height - bottom - 8
  local peak = 0
  for _, bucket in ipairs(series) do peak = math.max(peak, bucket.packets / interval) end
  if peak == 0 then peak = 1 end
  local function x(index) return left + (#series > 1 and (index - 1) / (#series - 1) or 1) * plotW end
  local function y(rate) return 8 + plotH - rate / peak * plotH end
  local out = { string.format('<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="packets per second">',
    width, height + 16 * math.ceil((#methods + 1) / 4), width, height + 16 * math.ceil((#methods + 1) / 4)) }
  out[#out + 1] = string.format('<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#999"/>', left, 8 + plotH, left + plotW, 8 + plotH)
  out[#out + 1] = string.format('<line x1="%d" y1="8" x2="%d" y2="%d" stroke="#999"/>', left, left, 8 + plotH)
  out[#out + 1] = string.format('<text x="%d" y="14" font-size="10" text-anchor="end">%.3g/s</text>', left - 4, peak)
  out[#out + 1] = string.format('<text x="%d" y="%d" font-size="10" text-anchor="end">0</text>', left - 4, 8 + plotH)
  out[#out + 1] = string.format('<text x="%d" y="%d" font-size="10">%s</text>', left, height - 4, os.date("%Y-%m-%d %H:%M", series[1].start))
  out[#out + 1] = string.format('<text x="%d" y="%d" font-size="10" text-anchor="end">%s</text>', left + plotW, height - 4, os.date("%H:%M", series[#series].start))
  local lines = { { name = "total", colour = "#000", value = function(bucket) return bucket.packets end } }
  for index, method in ipairs(methods) do
    lines[#lines + 1] = { name = method, colour = PALETTE[(index - 1) % #PALETTE + 1], value = function(bucket) return bucket.counts[method] or 0 end }
  end
  for index, line in ipairs(lines) do
    local points = {}
    for position, bucket in ipairs(series) do points[#points + 1] = string.format("%.1f,%.1f", x(position), y(line.value(bucket) / interval)) end
    if #points == 1 then points[2] = string.format("%.1f,%.1f", left, y(line.value(series[1]) / interval)) end
    out[#out + 1] = string.format('<polyline fill="none" stroke="%s" stroke-width="%s" points="%s"/>', line.colour, index == 1 and "2" or "1", table.concat(points, " "))
    local column, row = (index - 1) % 4, (index - 1) // 4
    out[#out + 1] = string.format('<rect x="%d" y="%d" width="10" height="3" fill="%s"/><text x="%d" y="%d" font-size="10">%s</text>',
      left + column * 170, height + 4 + row * 16, line.colour, left + column * 170 + 14, height + 9 + row * 16, escape(line.name))
  end
  out[#out + 1] = "</svg>"
  return table.concat(out)
end

function M.averagesTable()
  local out = { '<table class="statistics"><thead><tr><th>Window</th><th>Packets/s</th><th>Discarded/s</th><th>Non-DHCP/s</th><th>Mean processing</th></tr></thead><tbody>' }
  for _, window in ipairs(config.AVERAGES_WINDOWS) do
    local average = M.average(window)
    out[#out + 1] = string.format("<tr><td>%s</td><td>%.3f</td><td>%.3f</td><td>%.3f</td><td>%.2f ms</td></tr>",
      describeWindow(window), average.per_second, average.discarded_per_second, average.other_per_second, average.mean_ms)
  end
  out[#out + 1] = "</tbody></table>"
  return table.concat(out)
end

function M.lifetimeTable()
  local methods = {}
  for method in pairs(lifetime.counts) do methods[#methods + 1] = method end
  table.sort(methods)
  local out = { '<table class="statistics"><thead><tr><th>Since ' .. os.date("%Y-%m-%d %H:%M:%S", M.started) .. "</th><th>Packets</th></tr></thead><tbody>" }
  for _, method in ipairs(methods) do
    out[#out + 1] = string.format("<tr><td>%s</td><td>%d</td></tr>", escape(method), lifetime.counts[method])
  end
  local all = lifetime.packets + lifetime.other
  out[#out + 1] = string.format("<tr><td>all DHCP</td><td>%d</td></tr><tr><td>discarded</td><td>%d</td></tr><tr><td>non-DHCP</td><td>%d</td></tr><tr><td>mean processing</td><td>%.2f ms</td></tr>",
    lifetime.packets, lifetime.discarded, lifetime.other, all > 0 and lifetime.time / all * 1000 or 0)
  out[#out + 1] = "</tbody></table>"
  return table.concat(out)
end

function M.csv()
  local methods = M.methods()
  local header = { "start", "seconds" }
  for _, method in ipairs(methods) do header[#header + 1] = method end
  for _, name in ipairs({ "packets", "discarded", "other", "mean_ms" }) do header[#header + 1] = name end
  local lines = { table.concat(header, ",") }
  for _, bucket in ipairs(M.series()) do
    local row = { os.date("!%Y-%m-%dT%H:%M:%SZ", bucket.start), tostring(interval) }
    for _, method in ipairs(methods) do row[#row + 1] = tostring(bucket.counts[method] or 0) end
    local all = bucket.packets + bucket.other
    row[#row + 1] = tostring(bucket.packets)
    row[#row + 1] = tostring(bucket.discarded)
    row[#row + 1] = tostring(bucket.other)
    row[#row + 1] = string.format("%.3f", all > 0 and bucket.time / all * 1000 or 0)
    lines[#lines + 1] = table.concat(row, ",")
  end
  return table.concat(lines, "\n") .. "\n"
end

local function jsonString(text)
  return '"' .. tostring(text):gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == "\\" then return "\\\\" end
    return string.format("\\u%04x", c:byte())
  end) .. '"'
end

function M.json()
  local methods = M.methods()
  local rows = {}
  for _, bucket in ipairs(M.series()) do
    local counts = {}
    for _, method in ipairs(methods) do counts[#counts + 1] = jsonString(method) .. ":" .. (bucket.counts[method] or 0) end
    local all = bucket.packets + bucket.other
    rows[#rows + 1] = string.format('{"start":%d,"counts":{%s},"packets":%d,"discarded":%d,"other":%d,"mean_ms":%.3f}',
      bucket.start, table.concat(counts, ","), bucket.packets, bucket.discarded, bucket.other, all > 0 and bucket.time / all * 1000 or 0)
  end
  local averages = {}
  for _, window in ipairs(config.AVERAGES_WINDOWS) do
    local average = M.average(window)
    averages[#averages + 1] = string.format('{"window":%d,"seconds":%d,"packets":%d,"per_second":%.6f,"discarded_per_second":%.6f,"other_per_second":%.6f,"mean_ms":%.3f}',
      window, average.seconds, average.packets, average.per_second, average.discarded_per_second, average.other_per_second, average.mean_ms)
  end
  local totals = {}
  for method, count in pairs(lifetime.counts) do totals[#totals + 1] = jsonString(method) .. ":" .. count end
  table.sort(totals)
  return string.format('{"interval":%d,"methods":[%s],"buckets":[%s],"averages":[%s],"lifetime":{"since":%d,"counts":{%s},"packets":%d,"discarded":%d,"other":%d}}',
    interval, table.concat((function() local q = {} for i, m in ipairs(methods) do q[i] = jsonString(m) end return q end)(), ","),
    table.concat(rows, ","), table.concat(averages, ","), M.started, table.concat(totals, ","), lifetime.packets, lifetime.discarded, lifetime.other)
end

callbacks.statsAddHandler(M.record)
local base = config.DASHBOARD_ORDERING
local function ordering(offset) return base and base + offset or nil end
if config.GRAPH_IN_DASHBOARD then
  callbacks.webAddDashboard("statistics", "packets per second", function() return M.graph() end, ordering(0))
end
if config.AVERAGES_IN_DASHBOARD then
  callbacks.webAddDashboard("statistics", "averages", function() return M.averagesTable() end, ordering(1))
end
if config.LIFETIME_IN_DASHBOARD then
  callbacks.webAddDashboard("statistics", "lifetime", function() return M.lifetimeTable() end, ordering(2))
end
if config.CSV_PATH then
  callbacks.webAddMethod(config.CSV_PATH, function() return "text/csv; charset=utf-8", M.csv() end,
    { hidden = false, public = config.PUBLIC, module = "statistics", name = "graph.csv" })
end
if config.JSON_PATH then
  callbacks.webAddMethod(config.JSON_PATH, function() return "application/json", M.json() end,
    { hidden = false, public = config.PUBLIC, module = "statistics", name = "graph.json" })
end

return M
