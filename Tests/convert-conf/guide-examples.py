# The scripting guide's example hooks as a site would have them in conf.py, with the guide's
# 192.168.0.0/24 moved to 192.0.2.0/24 (RFC 5737) so that the end-to-end test may serve them
# (Tests/e2e/test-guide-hooks.sh). scripts/convert-conf must turn every hook into working Lua.
import random
import databases.generic.Definition

DHCP_SERVER_IP = '192.0.2.1'

# Settings computed from literals, as conf.py files often write them.
UNAUTHORIZED_CLIENT_TIMEOUT = 60 * 10
WEB_LOG_HISTORY = 2 ** 8
SYSTEM_NAME = 'staticDHCPd' + ' ' + 'guide'
MISBEHAVING_CLIENT_TIMEOUT = UNAUTHORIZED_CLIENT_TIMEOUT // 4
EMAIL_TIMEOUT = 4.0 if WEB_LOG_HISTORY > 100 else 2.0

def _tick_logger():
    #A trivial function that writes to the log whenever a tick occurs
    logger.debug("Ticked!")

def init():
    callbacks.systemAddTickHandler(_tick_logger)

def filterPacket(packet, method, mac, client_ip, relay_ip, port):
    return random.random() > 0.2

def handleUnknownMAC(packet, method, mac, client_ip, relay_ip, port):
    if mac == 'aa:bb:cc:dd:ee:ff':
        return databases.generic.Definition(
            ip='192.0.2.99', lease_time=600,
            subnet='192.0.2.0/24', serial=0,
            hostname='guestbox',
            #gateways=None, #The old format didn't support per-definition gateways
            subnet_mask='255.255.255.0',
            broadcast_address='192.0.2.255',
            domain_name='guestbox.example.org.',
            domain_name_servers=['192.0.2.5', '192.0.2.6', '192.0.2.7'],
            ntp_servers=['192.0.2.8', '192.0.2.9'],
        )
    return None

def loadDHCPPacket(packet, method, mac, definition, relay_ip, port, source_packet):
    if not definition.ip[3] % 3: #The client's IP's fourth octet is a multiple of 3
        packet.setOption('renewal_time_value', 60)
    elif method.startswith('REQUEST:') and random.random() < 0.5:
        packet.transformToDHCPNakPacket()
    elif random.random() < 0.1:
        return False
    return True
