# -*- encoding: utf-8 -*-
"""
A staticDHCPd 3.x configuration written for the converter's test from the original's full list
of parameters (every section, legacy names, None values, hooks and an extension).
"""
import os
import random

#Whether to daemonise on startup
DAEMON = False
DEBUG = False
SYSTEM_NAME = 'staticDHCPd "lab"'
PID_FILE = None
UID = 999
GID = 999.0

# The IP of the interface to use for DHCP traffic
DHCP_SERVER_IP = '192.0.2.1'
DHCP_RESPONSE_INTERFACE = None
DHCP_RESPONSE_INTERFACE_QTAGS = [(0, False, 100), (3, True, 200)]
DHCP_SERVER_PORT = 67
DHCP_CLIENT_PORT = 68
PXE_PORT = 4011

#The database-engine to use
DATABASE_ENGINE = 'SQLite'
SQLITE_FILE = '/etc/staticDHCPd/dhcp.sqlite3'
CASE_INSENSITIVE_MACS = True
EXTRA_MAPS = ['comment']
EXTRA_SUBNETS = None
USE_POOL = True
POSTGRESQL_DATABASE = 'dhcp'
POSTGRESQL_USERNAME = 'dhcp_user'
POSTGRESQL_PASSWORD = 'pa"ss\\word'
POSTGRESQL_HOST = None
POSTGRESQL_PORT = 5432
POSTGRESQL_SSLMODE = 'disable'
POSTGRESQL_MAXIMUM_CONNECTIONS = 4
MYSQL_PORT = 3306
ORACLE_MAXIMUM_CONNECTIONS = 4

USE_CACHE = True
CACHING_MODEL = 'in-process'
CACHE_ON_DISK = True
PERSISTENT_CACHE = '/var/cache/staticDHCPd.sqlite3'
MEMCACHED_SERVER = '127.0.0.1'
MEMCACHED_PORT = 11211
MEMCACHED_AGE_TIME = 300

ALLOW_LOCAL_DHCP = True
ALLOW_DHCP_RELAYS = True
ALLOWED_DHCP_RELAYS = ['198.51.100.2', '198.51.100.3']
ENABLE_RAPIDCOMMIT = False
AUTHORITATIVE = True
NAK_RENEWALS = False
UNAUTHORIZED_CLIENT_TIMEOUT = 60
MISBEHAVING_CLIENT_TIMEOUT = 150
ENABLE_SUSPEND = True
SUSPEND_THRESHOLD = 10

LOG_FILE = '/var/log/staticDHCPd.log'
LOG_FILE_HISTORY = None
LOG_FILE_SEVERITY = 'WARN'
LOG_CONSOLE_SEVERITY = 'INFO'

WEB_ENABLED = True
WEB_IP = '0.0.0.0'
WEB_PORT = 30880
WEB_LOG_HISTORY = 200
WEB_LOG_SEVERITY = 'INFO'
WEB_LOG_MAX_HEIGHT = None
WEB_DIGEST_USERNAME = 'admin'
WEB_DIGEST_PASSWORD = 'sécret'
WEB_DASHBOARD_SECURE = False
WEB_REINITIALISE_CONFIRM = True
WEB_DASHBOARD_ORDER_LOG = 1000

EMAIL_ENABLED = False
EMAIL_SERVER = None
EMAIL_PORT = 25
EMAIL_TIMEOUT = 4.0
EMAIL_SUBJECT = 'staticDHCPd encountered a problem'

X_HTTPDB_URI = 'http://198.51.100.9/lookup'
X_HTTPDB_HEADERS = {'Content-Type': 'application/json', 'X-Token': 'abc'}
WEB_HEADER_TITLE = True if DEBUG else False
EMAIL_USER = os.environ.get('MAIL_USER', 'dhcp')

def init():
    #Load extensions here
    import statistics
    with extensions.feedservice as x:
        x.SERVER_BASE = 'http://198.51.100.1:30880'

def filterPacket(packet, method, mac, client_ip, relay_ip, port):
    return random.random() > 0.2

def loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet):
    if definition.ip[3] % 3 == 0:
        packet.setOption('renewal_time_value', 60)
    return True
