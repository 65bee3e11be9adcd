-- feedservice: an Atom feed of the server's warnings and errors, and a page per record
-- (the original's extension of that name). Records come from callbacks.logAddHandler and are kept in `store`, so the
-- feed survives restarts and reloads.
--
--   function init()
--     extensions.feedservice.SERVER_BASE = "http://dhcp.example.org:30880"  -- optional settings, defaults below
--     require "feedservice"
--   end

local M = {}

local BASE = "/ca/uguu/puukusoft/staticDHCPd/extension/feedservice/"
local config = extensions.feedservice:extension_config_merge({
  LOGGING_LEVEL = "ERROR",     -- lowest level collected: DEBUG, INFO, WARN, ERROR, CRITICAL
  MAX_EVENTS_TOTAL = 100,      -- records kept
  MAX_EVENTS_FEED = 10,        -- entries in the feed
  MAX_AGE = 86400,             -- seconds a record stays in the feed
  FEED_ID = nil,               -- the feed's UUID (default: made once and kept in the store)
  TITLE = SYSTEM_NAME or "staticDHCPd",
  SERVER_BASE = "",            -- prefix for absolute links, e.g. "http://dhcp.example.org:30880"
  FEED_PATH = BASE .. "feed",
  RECORD_PATH = BASE .. "record",
  LINK_IN_HEADER = true,       -- <link rel="alternate"> in every page's head
  CLEAR_ON_REINIT = false,
  PUBLIC = false,             -- false: the feed and record pages follow WEB_DASHBOARD_SECURE, like the dashboard;
                               -- true: served without credentials even when it is true
                               -- (for a feed reader without digest support)
}, {})
if type(config.PUBLIC) ~= "boolean" then error("extensions.feedservice.PUBLIC must be true or false", 2) end

for _, key in ipairs({"MAX_EVENTS_TOTAL", "MAX_EVENTS_FEED", "MAX_AGE"}) do
  if math.type(config[key]) ~= "integer" or config[key] < 1 then
    error("extensions.feedservice." .. key .. " must be a positive integer, got " .. tostring(config[key]), 2)
  end
end
if type(config.SERVER_BASE) ~= "string" then error("extensions.feedservice.SERVER_BASE must be a string", 2) end

local STORE_KEY = "feedservice/records"
M.clock = os.time -- tests replace it

local function newUUID()
  local r = {}
  for i = 1, 8 do r[i] = math.random(0, 0xffff) end
  r[4] = (r[4] & 0x0fff) | 0x4000 -- version 4
  r[5] = (r[5] & 0x3fff) | 0x8000 -- variant
  return string.format("%04x%04x-%04x-%04x-%04x-%04x%04x%04x", table.unpack(r))
end

local feedID = config.FEED_ID
if not feedID then
  feedID = store.update("feedservice/feed_id", function(old) return old or newUUID() end)
end

local records = store.get(STORE_KEY) or {} -- newest first: { uid, time, level_name, logger, message }

function M.collect(record)
  table.insert(records, 1, {
    uid = newUUID(), time = math.floor(record.time), level_name = record.level_name,
    logger = record.logger, message = record.message,
  })
  while #records > config.MAX_EVENTS_TOTAL do records[#records] = nil end
  M.dirty = true
end

--- Writes new records to the store (once per batch, from the tick).
function M.save()
  if not M.dirty then return end
  M.dirty = false
  if #records == 0 then store.delete(STORE_KEY) else store.put(STORE_KEY, records) end
end

function M.records() return records end

function M.clear()
  records = {}
  M.dirty = true
  M.save()
end

local function escape(text)
  return (tostring(text):gsub("[&<>\"']", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;" }))
end

local function iso(time) return os.date("!%Y-%m-%dT%H:%M:%SZ", time) end

function M.recordURL(uid) return config.SERVER_BASE .. config.RECORD_PATH .. "?uid=" .. uid end

function M.feed()
  local horizon = M.clock() - config.MAX_AGE
  local entries = {}
  for _, record in ipairs(records) do
    if #entries >= config.MAX_EVENTS_FEED then break end
    if record.time >= horizon then
      local headline = record.message:match("^[^\n]*")
      if #headline > 120 then headline = headline:sub(1, 117) .. "..." end
      entries[#entries + 1] = table.concat({
        "<entry>",
        "<title>", escape(record.level_name .. ": " .. headline), "</title>",
        "<id>urn:uuid:", record.uid, "</id>",
        "<updated>", iso(record.time), "</updated>",
        '<link rel="alternate" type="application/xhtml+xml" href="', escape(M.recordURL(record.uid)), '"/>',
        "<author><name>", escape(record.logger), "</name></author>",
        '<content type="text">', escape(record.message), "</content>",
        "</entry>",
      })
    end
  end
  local updated = records[1] and records[1].time or M.clock()
  return table.concat({
    '<?xml version="1.0" encoding="utf-8"?>\n',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    "<title>", escape(config.TITLE), "</title>",
    "<subtitle>warnings and errors</subtitle>",
    "<id>urn:uuid:", feedID, "</id>",
    "<updated>", iso(updated), "</updated>",
    '<link rel="self" type="application/atom+xml" href="', escape(config.SERVER_BASE .. config.FEED_PATH), '"/>',
    "<generator>staticdhcpd feedservice</generator>",
    table.concat(entries),
    "</feed>\n",
  })
end

function M.recordPage(uid)
  for _, record in ipairs(records) do
    if record.uid == uid then
      return table.concat({
        '<table class="feedservice"><tbody>',
        "<tr><th>Time</th><td>", os.date("%Y-%m-%d %H:%M:%S", record.time), " (", iso(record.time), ")</td></tr>",
        "<tr><th>Level</th><td>", escape(record.level_name), "</td></tr>",
        "<tr><th>Logger</th><td>", escape(record.logger), "</td></tr>",
        "<tr><th>Message</th><td>", escape(record.message):gsub("\n", "<br/>"), "</td></tr>",
        "</tbody></table>",
      })
    end
  end
  return "<p>No record with the id " .. escape(uid or "(none)") .. " is kept any more.</p>"
end

callbacks.logAddHandler(M.collect, config.LOGGING_LEVEL)
callbacks.systemAddTickHandler(M.save)
callbacks.webAddMethod(config.FEED_PATH, function() return "application/atom+xml; charset=utf-8", M.feed() end,
  { hidden = false, public = config.PUBLIC, module = "feedservice", name = "feed" })
callbacks.webAddMethod(config.RECORD_PATH, function(path, queryargs)
  local uid = queryargs.uid and queryargs.uid[1]
  return M.recordPage(uid)
end, { hidden = true, public = config.PUBLIC, module = "feedservice", name = "record", display_mode = callbacks.WEB_METHOD_TEMPLATE })
if config.LINK_IN_HEADER then
  callbacks.webAddHeader(function()
    return string.format('<link rel="alternate" type="application/atom+xml" title="%s" href="%s"/>',
      escape(config.TITLE), escape(config.SERVER_BASE .. config.FEED_PATH))
  end)
end
if config.CLEAR_ON_REINIT then callbacks.systemAddReinitHandler(M.clear) end

return M
