-- staticdhcpd configuration (Lua 5.4). Upper-case globals are settings; everything else is private
-- to this script. See docs/SCRIPTING.md for the API. In Lua, `nil` and "not set" are the same thing,
-- so settings whose Python default is None are shown commented out; `false` means None where noted.

---------------------------------------------------------------------------------------------------
-- General
DEBUG = false                        -- richer log format (logger name, line)
DAEMON = true                        -- fork into the background at startup
SYSTEM_NAME = "staticDHCPd"          -- shown in the web dashboard and the digest realm
-- PID_FILE = "/run/staticdhcpd.pid" -- pidfile path (default: staticdhcpd.pid in STATE_DIRECTORY)
-- UID = 65534                       -- user to become after binding sockets (default: keep current)
-- GID = 65534                       -- group to become after binding sockets (default: keep current)

---------------------------------------------------------------------------------------------------
-- Server / network
DHCP_SERVER_IP = "192.0.2.1"         -- REQUIRED: address of the serving interface (option 54)
DHCP_RESPONSE_INTERFACE = "-"        -- raw L2 replies: "-" = auto-detect, a name, or false = plain UDP
-- DHCP_RESPONSE_INTERFACE_QTAGS = { {0, false, 100} } -- 802.1Q tags {pcp, dei, vid}, outermost first
DHCP_SERVER_PORT = 67                -- listening port (also the port relay replies go to)
DHCP_CLIENT_PORT = 68                -- port client replies go to
-- PROXY_PORT = 4011                 -- extra ProxyDHCP/PXE port (legacy name: PXE_PORT)

---------------------------------------------------------------------------------------------------
-- Database
DATABASE_ENGINE = "SQLite"           -- "SQLite", "INI", "PostgreSQL", "HTTP", nil (Null) or a function
SQLITE_FILE = "dhcp.sqlite3"         -- SQLite database file
DATABASE_TIMEOUT = 5.0               -- seconds a lookup may take before the request is dropped
CASE_INSENSITIVE_MACS = false        -- compare LOWER(mac) in SQL engines
-- EXTRA_MAPS = {"comment"}          -- extra maps columns, exposed as definition.extra["maps.<col>"]
-- EXTRA_SUBNETS = {"vlan"}          -- extra subnets columns, exposed as definition.extra["subnets.<col>"]
USE_POOL = true                      -- connection pooling for PostgreSQL
-- INI_FILE = "dhcp.ini"             -- INI database file (DATABASE_ENGINE = "INI")
-- POSTGRESQL_DATABASE = "dhcp"      -- PostgreSQL database name (required for PostgreSQL)
-- POSTGRESQL_USERNAME = "dhcp"      -- PostgreSQL user (required for PostgreSQL)
-- POSTGRESQL_PASSWORD = "secret"    -- PostgreSQL password (required for PostgreSQL)
-- POSTGRESQL_HOST = "127.0.0.1"     -- nil = local socket
POSTGRESQL_PORT = 5432               -- PostgreSQL port
POSTGRESQL_SSLMODE = "disable"       -- disable, allow, prefer, require, verify-ca, verify-full
POSTGRESQL_MAXIMUM_CONNECTIONS = 4   -- connections for lookups (and the store's transactions)
-- MYSQL_DATABASE / MYSQL_USERNAME / MYSQL_PASSWORD / MYSQL_HOST: no driver is available in this port
MYSQL_PORT = 3306                    -- kept for compatibility
MYSQL_MAXIMUM_CONNECTIONS = 4        -- kept for compatibility
-- ORACLE_DATABASE / ORACLE_USERNAME / ORACLE_PASSWORD: no driver is available in this port
ORACLE_MAXIMUM_CONNECTIONS = 4       -- kept for compatibility
-- X_HTTPDB_URI = "https://dhcp.example.test/lookup" -- HTTP engine: the service asked for each MAC (required)
-- X_HTTPDB_HEADERS = {Authorization = "Bearer secret"} -- sent with every request
-- X_HTTPDB_PARAMETERS = {site = "north"} -- sent beside the MAC with every request
-- X_HTTPDB_PARAMETER_KEY_MAC = "mac" -- the name the MAC is sent under
-- X_HTTPDB_POST = true              -- true: POST a JSON object; false: GET with a query string
-- X_HTTPDB_DEFAULT_NAME_SERVERS = "192.0.2.53,192.0.2.54" -- for answers without domain_name_servers
-- X_HTTPDB_DEFAULT_LEASE_TIME = 3600 -- for answers without lease_time (default 0)
-- X_HTTPDB_DEFAULT_SERIAL = 0       -- for answers without serial
-- X_HTTPDB_CONCURRENCY_LIMIT = 8    -- requests in flight at once (nil = no limit); others queue
--   The service answers a definition object {ip, subnet, lease_time, serial, hostname, gateway,
--   subnet_mask, broadcast_address, domain_name, domain_name_servers, ntp_servers, extra}, an array
--   of them (filterRetrievedDefinitions chooses), or null / an empty body / 404 for an unknown MAC.
-- DATABASE_ENGINE = function()      -- a Lua-defined engine:
--   return {
--     lookupMAC = function(mac) if mac == "aa:bb:cc:dd:ee:ff" then return Definition{ip = "192.0.2.10", lease_time = 3600, subnet = "lab", serial = 0} end end,
--     reinitialise = function() end,
--   }
-- end

---------------------------------------------------------------------------------------------------
-- Caching (SQL and HTTP engines)
USE_CACHE = false                    -- enable the cache layer
CACHING_MODEL = "in-process"         -- "in-process" or "memcached"
DISK_CACHE = false                   -- keep the in-process cache in an SQLite file (legacy: CACHE_ON_DISK)
-- DISK_CACHE_PERSISTENT = "/var/cache/staticdhcpd.sqlite3" -- cache file kept across restarts (legacy: PERSISTENT_CACHE)
-- MEMCACHED_HOST = "127.0.0.1"      -- memcached host
MEMCACHED_PORT = 11211               -- memcached port
MEMCACHED_AGE_TIME = 300             -- seconds memcached keeps an entry

---------------------------------------------------------------------------------------------------
-- Server behaviour
ALLOW_LOCAL_DHCP = true              -- serve directly attached clients (giaddr 0)
ALLOW_DHCP_RELAYS = false            -- serve relayed requests
ALLOWED_DHCP_RELAYS = {}             -- when non-empty, only these relays
ENABLE_RAPIDCOMMIT = true            -- answer DISCOVER+option 80 with an immediate ACK
AUTHORITATIVE = false                -- NAK instead of ignoring unknown/mismatched requests
NAK_RENEWALS = false                 -- NAK every renewal
UNAUTHORIZED_CLIENT_TIMEOUT = 60     -- seconds a blocklisted MAC is ignored
MISBEHAVING_CLIENT_TIMEOUT = 150     -- seconds a flooding MAC is ignored
ENABLE_SUSPEND = true                -- count requests per MAC to detect floods
SUSPEND_THRESHOLD = 10               -- requests per counting window before suspension

---------------------------------------------------------------------------------------------------
-- Logging
-- LOG_FILE = "/var/log/staticdhcpd.log" -- log file (default: none)
LOG_FILE_HISTORY = 7                 -- rotated files kept (false = one ever-growing file)
LOG_FILE_SEVERITY = "WARN"           -- DEBUG, INFO, WARN, ERROR, CRITICAL
LOG_CONSOLE_SEVERITY = "INFO"        -- console level (when not daemonised)

---------------------------------------------------------------------------------------------------
-- Web dashboard
WEB_ENABLED = true                   -- start the HTTP server
WEB_IP = "127.0.0.1"                 -- bind address: this machine only. To reach the dashboard from
                                     -- elsewhere, set a management address (or "0.0.0.0") AND the
                                     -- two credentials below; without them other hosts may read but
                                     -- not change anything, and the daemon warns at each start
WEB_PORT = 30880                     -- bind port
WEB_LOG_HISTORY = 200                -- records kept for the dashboard log (0 disables it)
WEB_LOG_SEVERITY = "INFO"            -- lowest level shown in the dashboard log
WEB_LOG_MAX_HEIGHT = 400             -- pixel height of the log box (false = unlimited)
-- WEB_DIGEST_USERNAME = "admin"     -- digest auth user (auth needs user and password)
-- WEB_DIGEST_PASSWORD = "secret"    -- digest auth password
WEB_DASHBOARD_SECURE = false         -- require auth for the dashboard, its API and extension pages
-- WEB_CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self' 'unsafe-inline'"
                                     -- the default allows no inline script or style; loosen it
                                     -- only for fragments you trust (docs/SCRIPTING.md)
WEB_REINITIALISE_CONFIRM = true      -- ask before reinitialising from the web
WEB_REINITIALISE_SECURE = false      -- require auth for /api/reload (the reinitialise page always asks
                                     -- when credentials are set)
WEB_REINITIALISE_HIDDEN = false      -- hide the reinitialise link
WEB_REINITIALISE_ENABLED = true      -- offer reinitialisation at all
WEB_DASHBOARD_ORDER_LOG = 1000       -- position of the log element
WEB_HEADER_TITLE = true              -- emit <title>SYSTEM_NAME</title>
WEB_HEADER_CSS = true                -- serve and link /css
WEB_HEADER_FAVICON = true            -- serve and link /favicon.ico

---------------------------------------------------------------------------------------------------
-- E-mail (CRITICAL records)
EMAIL_ENABLED = false                -- mail every CRITICAL record
-- EMAIL_SERVER = "mail.example.org" -- SMTP host (required when enabled)
EMAIL_PORT = 25                      -- SMTP port
EMAIL_TIMEOUT = 4.0                  -- SMTP timeout, seconds
-- EMAIL_SOURCE = "dhcp@example.org" -- From (required when enabled)
-- EMAIL_DESTINATION = "ops@example.org" -- To (required when enabled)
EMAIL_SUBJECT = "staticDHCPd encountered a problem" -- subject line
-- EMAIL_USER = "dhcp"               -- SMTP auth user (default: no auth)
-- EMAIL_PASSWORD = "secret"         -- SMTP auth password (required with EMAIL_USER)

---------------------------------------------------------------------------------------------------
-- State
-- STATE_DIRECTORY = "/var/lib/staticdhcpd" -- where `store` keeps its data (default: state/ beside this file)
STORE_ENGINE = "SQLite"              -- `store` (and dynamism's leases) in STATE_DIRECTORY; "PostgreSQL": shared by
                                     -- every daemon on the POSTGRESQL_* database (docs/DEPLOYMENT.md)

---------------------------------------------------------------------------------------------------
-- Scheduling
-- REALTIME_PRIORITY = 10            -- SCHED_FIFO priority (1-99) of the thread that answers DHCP
                                     -- (default 0: ordinary scheduling); needs root or CAP_SYS_NICE

---------------------------------------------------------------------------------------------------
-- Lua limits (per hook or callback call; init() gets ten times the budget)
LUA_INSTRUCTION_LIMIT = 10000000     -- VM instructions per call (0 = unlimited)
LUA_TIME_LIMIT = 1.0                 -- wall-clock seconds per call (0 = unlimited)
LUA_MEMORY_LIMIT = 67108864          -- bytes the whole Lua state may hold (0 = unlimited)

---------------------------------------------------------------------------------------------------
-- Hooks (all optional). Uncomment and adapt. Modules in staticDHCPd_extensions/ beside this file
-- can be loaded with require, e.g.: local _handlers = require "_handlers"

-- Official extensions (staticDHCPd_extensions/; settings in docs/SCRIPTING.md). Uncomment to enable;
-- set an extension's settings before its require.
-- function init()
--   extensions.statistics.QUANTISATION_INTERVAL = 300   -- packets per method, averages, SVG graph, CSV/JSON
--   require "statistics"
--   require "recent_activity"                           -- the latest event per MAC on the dashboard
--   extensions.feedservice.SERVER_BASE = "http://192.0.2.1:30880"
--   require "feedservice"                               -- Atom feed of warnings and errors
--   extensions.dynamism.pools = {                       -- dynamic pools for unknown clients, kept in `store`
--     { name = "guests", subnet = "192.0.2.0/24", serial = 0, first = "192.0.2.100", last = "192.0.2.199",
--       lease_time = 3600, hostname_prefix = "guest", subnet_mask = "255.255.255.0", gateways = {"192.0.2.1"} },
--   }
--   dynamism = require "dynamism"
-- end
-- function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
--   return dynamism.handle(packet, method, mac, client_ip, relay_ip, port)
-- end
-- function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
--   dynamism.loadDHCPPacket(packet, method, mac, definition)  -- T1/T2 for pool leases
--   return true
-- end

-- local function _tick_logger()
--   logger.debug("Ticked!")               -- runs about once a second
-- end
-- function init()
--   callbacks.systemAddTickHandler(_tick_logger)
-- end

-- function filterPacket(packet, method, mac, client_ip, relay_ip, port)
--   return math.random() > 0.2            -- true: continue; false: drop; nil: drop and blocklist
-- end

-- function handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port)
--   if mac == "aa:bb:cc:dd:ee:ff" then
--     return Definition{
--       ip = "192.0.2.100", lease_time = 600, subnet = "192.0.2.0/24", serial = 0,
--       hostname = "guestbox", subnet_mask = "255.255.255.0", broadcast_address = "192.0.2.255",
--       domain_name = "guestbox.example.org.",
--       domain_name_servers = {"192.0.2.5", "192.0.2.6", "192.0.2.7"},
--       ntp_servers = {"192.0.2.8", "192.0.2.9"},
--     }
--   end
--   return nil
-- end

-- function filterRetrievedDefinitions(definitions, packet, method, mac, client_ip, relay_ip, port)
--   for _, definition in ipairs(definitions) do
--     if relay_ip and IPv4.inSubnet(relay_ip, definition.subnet) then return definition end
--   end
--   return nil
-- end

-- function loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet)
--   if ipToList(definition.ip)[4] % 3 == 0 then  -- the fourth octet is a multiple of 3
--     packet:setOption("renewal_time_value", 60)
--   elseif method:sub(1, 8) == "REQUEST:" and math.random() < 0.5 then
--     packet:transformToDHCPNakPacket()
--   elseif math.random() < 0.1 then
--     return false
--   end
--   return true
-- end
