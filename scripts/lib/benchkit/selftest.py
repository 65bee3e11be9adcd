"""Self-test of the harness's pure parts: python3 -m benchkit.selftest (no root, no network)."""
import unittest

from .perfdhcp import PerfdhcpError, parse_report, percentile
from .reservations import mac_for, reservations, sqlite_script

REPORT = """***Rate statistics***
Rate: 1999.42 4-way exchanges/second, expected rate: 2000
***Statistics for: DISCOVER-OFFER***
sent packets: 1000
received packets: 998
drops: 2
***Statistics for: REQUEST-ACK***
sent packets: 998
received packets: 997
drops: 1
***Statistics for: RELEASE***
sent packets: 990
received packets: 0
drops: 990
***Timestamps for packets: DISCOVER-OFFER***
sent / received: 000000.000000 / 000000.000100
sent / received: 000000.001000 / 000000.001300
***Timestamps for packets: REQUEST-ACK***
sent / received: 000000.000110 / 000000.000210
sent / received: 000000.001310 / 000000.001810
"""


class HarnessTests(unittest.TestCase):
    def test_mac_adds_index_byte_by_byte(self):
        self.assertEqual(mac_for("02:00:00:01:00:00", 0), "02:00:00:01:00:00")
        self.assertEqual(mac_for("02:00:00:01:00:00", 0x270F), "02:00:00:01:27:0f")
        # No carry between bytes: ff + 1 wraps within the byte.
        self.assertEqual(mac_for("02:00:00:01:00:ff", 1), "02:00:00:01:00:00")

    def test_mac_template_must_have_six_octets(self):
        with self.assertRaises(ValueError):
            mac_for("02:00:00", 1)

    def test_reservations_share_addresses_across_serials(self):
        entries = reservations("02:00:00:01:00:00", 10000)
        self.assertEqual(len({e.mac for e in entries}), 10000)
        self.assertEqual(len({(e.ip, e.serial) for e in entries}), 10000)
        self.assertEqual(entries[250].ip, "203.0.113.1")
        self.assertEqual(entries[250].serial, 1)
        self.assertIn("UNIQUE(ip, subnet, serial)", sqlite_script(entries[:2]))
        with self.assertRaises(ValueError):
            reservations("02:00:00:01:00:00", 0)

    def test_report_counts_dora_drops_not_release(self):
        result = parse_report(REPORT, 2000, 0.5)
        self.assertEqual(result.initiated, 1000)
        self.assertEqual(result.completed, 997)
        self.assertEqual(result.drops, 3)
        self.assertAlmostEqual(result.drop_ratio, 0.003)
        self.assertAlmostEqual(result.rate, 1999.42)

    def test_latency_pairs_each_request_with_its_offer(self):
        latencies = parse_report(REPORT, 2000, 0.5).dora_latencies_ms()
        self.assertEqual(len(latencies), 2)
        self.assertAlmostEqual(latencies[0], 0.2, places=6)   # 0.1 + 0.1 ms
        self.assertAlmostEqual(latencies[1], 0.8, places=6)   # 0.3 + 0.5 ms

    def test_unreadable_report_is_an_error(self):
        with self.assertRaises(PerfdhcpError):
            parse_report("perfdhcp: bad option", 100, 1)

    def test_percentile_nearest_rank(self):
        values = list(range(1, 101))
        self.assertEqual(percentile(values, 0.5), 50)
        self.assertEqual(percentile(values, 0.99), 99)
        self.assertIsNone(percentile([], 0.5))


if __name__ == "__main__":
    unittest.main()
