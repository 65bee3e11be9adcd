"""Self-test of the harness's pure parts: python3 -m benchkit.selftest (no root, no network)."""
import shutil
import struct
import tempfile
import unittest
from pathlib import Path

from . import report
from .measure import ServerResult
from .perfdhcp import PerfdhcpError, parse_report, percentile
from .reservations import mac_for, reservations, sqlite_script
from .soak import RssSampler, SegmentedLoad, segment_lengths, Sample, SoakResult, SoakSettings, least_squares_slope, load_slopes, verdict
from .soakreport import figures_table, per_minute_lines, render, samples_csv
from .pcap import CaptureError, dhcp_frames
from .wire import WireLatency, turnarounds


def soak_result(minutes=10.0, reservations_count=100_000, mb_at=lambda minute: 20.0, peak_mb=25.0,
                completed=600_000, drops=0):
    """A finished soak whose RSS follows mb_at(minute), sampled every 5 s."""
    settings = SoakSettings(minutes, reservations_count, 1000)
    samples = [Sample(t, int(mb_at(t / 60) * 1024), int(mb_at(t / 60) * 1024) - 10240, 10240)
               for t in range(0, int(minutes * 60) + 1, 5)]
    end = {"VmRSS": samples[-1].rss_kib, "RssAnon": samples[-1].anon_kib, "RssFile": 10240, "RssShmem": 0}
    moments = {"idle before": {"VmRSS": 18 * 1024, "RssAnon": 8 * 1024, "RssFile": 10240, "RssShmem": 0},
               "end of load": end, "idle after": end}
    return SoakResult(settings, rate=1000, rate_source="given", peak_kib=int(peak_mb * 1024), moments=moments,
                      samples=samples, initiated=completed + drops, completed=completed, drops=drops,
                      drop_ratio=drops / (completed + drops) if completed + drops else 0.0)

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


    def test_reservations_go_past_65536_with_distinct_macs(self):
        entries = reservations("02:00:00:01:00:00", 100_000)
        self.assertEqual(len({e.mac for e in entries}), 100_000)
        self.assertEqual(len({(e.ip, e.serial) for e in entries}), 100_000)
        self.assertEqual(entries[65536].mac, "02:00:00:02:00:00")
        self.assertEqual(entries[99_999].mac, "02:00:00:02:86:9f")   # 99,999 = 0x01869f
        self.assertEqual(entries[99_999].serial, 399)
        with self.assertRaises(ValueError):
            reservations("02:00:00:01:00:00", 1_000_001)


class SoakTests(unittest.TestCase):
    def test_slope_of_a_line_and_of_too_few_points(self):
        self.assertAlmostEqual(least_squares_slope([(0, 1), (1, 3), (2, 5)]), 2.0)
        self.assertAlmostEqual(least_squares_slope([(0, 5), (1, 5), (2, 5)]), 0.0)
        self.assertIsNone(least_squares_slope([(0, 1)]))
        self.assertIsNone(least_squares_slope([(1, 1), (1, 2)]))

    def test_second_half_ignores_warm_up(self):
        # 4 MB of warm-up growth in the first minute, flat afterwards.
        samples = [Sample(t, int((16 + 4 * min(t, 60) / 60) * 1024)) for t in range(0, 601, 5)]
        whole, second_half = load_slopes(samples, 600)
        self.assertGreater(whole, 0.1)   # the whole load sees the warm-up ...
        self.assertAlmostEqual(second_half, 0.0, places=6)   # ... the second half does not

    def test_flat_when_second_half_is_flat_and_peak_under_40(self):
        flat, sentence, caveats = verdict(soak_result())
        self.assertTrue(flat)
        self.assertTrue(sentence.startswith("flat"))
        self.assertEqual(caveats, [])

    def test_steady_growth_is_not_flat(self):
        flat, sentence, _ = verdict(soak_result(mb_at=lambda minute: 20 + 0.5 * minute))
        self.assertFalse(flat)
        self.assertIn("grows 0.500 MB/min", sentence)
        self.assertNotIn("peak", sentence)

    def test_peak_at_or_over_40_is_not_flat(self):
        flat, sentence, _ = verdict(soak_result(peak_mb=40.0))
        self.assertFalse(flat)
        self.assertIn("peak RSS 40.0 MB is not under 40 MB", sentence)

    def test_failure_and_no_exchange_are_never_flat(self):
        broken = soak_result()
        broken.failure = "the daemon exited during the load: killed"
        self.assertEqual(verdict(broken)[:2], (False, "failed: the daemon exited during the load: killed"))
        idle = soak_result(completed=0)
        self.assertFalse(verdict(idle)[0])
        self.assertIn("no exchange completed", verdict(idle)[1])

    def test_short_small_or_lossy_runs_carry_caveats(self):
        flat, _, caveats = verdict(soak_result(minutes=1, reservations_count=5000, drops=6000))
        self.assertTrue(flat)
        self.assertEqual(len(caveats), 3)
        self.assertIn("short run (1 min)", caveats[0])
        self.assertIn("5,000 reservations", caveats[1])
        self.assertIn("not clean", caveats[2])

    def test_sampler_reads_on_a_grid_and_stops_when_the_process_is_gone(self):
        readings = iter(range(1, 6))

        def read_status():
            value = next(readings, None)
            if value is None:
                raise FileNotFoundError("/proc/1234/status")
            return {"VmRSS": value * 1024, "RssAnon": value, "RssFile": 0}

        sampler = RssSampler(read_status, 0.02, lambda message: None)
        sampler.start()
        sampler.join(timeout=5)
        samples = sampler.stop()
        self.assertEqual([s.rss_kib for s in samples], [1024, 2048, 3072, 4096, 5120])
        self.assertEqual(samples[0].seconds, min(s.seconds for s in samples))
        self.assertGreaterEqual(samples[-1].seconds, 4 * 0.02 - 0.005)
        self.assertIn("went away", sampler.error)

    def test_load_period_is_whole_seconds_for_perfdhcp(self):
        self.assertEqual(SoakSettings(0.01).seconds, 1)
        self.assertEqual(SoakSettings(1.5).seconds, 90)
        self.assertEqual(SoakSettings().seconds, 600)

    def test_settings_refuse_bad_values(self):
        for bad in [dict(minutes=0), dict(minutes=-1), dict(reservations=0), dict(reservations=2_000_000),
                    dict(rate=0)]:
            with self.assertRaises(ValueError, msg=str(bad)):
                SoakSettings(**bad)

    def test_report_has_figures_verdict_and_one_row_per_minute(self):
        result = soak_result(minutes=2, mb_at=lambda minute: 20 + minute)
        table = figures_table(result)
        self.assertEqual(len(table), 3)
        self.assertIn("| 18.0 | 25.0 | 22.0 | 22.0 | +1.000 | +1.000 | 600,000 | 0 (0.000 %) |", table[2])
        rows = per_minute_lines(result)
        self.assertEqual(len(rows), 2 + 3)  # header, rule, minutes 0, 1 and the last sample at 2:00
        text = render(result, {"date": "today", "settings": {"server": "x"}})
        self.assertIn("Verdict: not flat: RSS still grows 1.000 MB/min", text)
        self.assertIn("| idle before | 18.0 | 8.0 | 10.0 | 0.0 |", text)
        self.assertIn("RssAnon slope: +1.000 MB/min over the load", text)
        self.assertEqual(samples_csv(result).splitlines()[1], "0.0,20480,10240,10240")

    def test_soak_load_is_cut_into_runs_of_at_most_a_minute(self):
        self.assertEqual(segment_lengths(600), [60] * 10)
        self.assertEqual(segment_lengths(90), [45, 45])
        self.assertEqual(segment_lengths(61), [31, 30])
        self.assertEqual(segment_lengths(5), [5])
        self.assertEqual(sum(segment_lengths(599)), 599)
        load = SegmentedLoad()
        self.assertEqual(load.drop_ratio, 1.0)

        class Run:
            initiated, completed, drops = 100, 99, 1
        load.add(Run())
        load.add(Run())
        self.assertEqual((load.initiated, load.completed, load.drops, load.runs), (200, 198, 2, 2))
        self.assertAlmostEqual(load.drop_ratio, 0.01)

    def test_floor_is_a_reference_not_a_peer(self):
        ours = ServerResult("ours", "ours", clean_rate=10_000, clean_confirmed=True, cpu_us=50.0)
        peer = ServerResult("peer", "peer", clean_rate=5_000, clean_confirmed=True, cpu_us=80.0)
        floor = ServerResult("floor", "floor", clean_rate=20_000, clean_confirmed=True, cpu_us=20.0)
        ratios = report.ratios_table([ours, peer, floor])
        self.assertEqual(len(ratios), 3)  # header, rule, ours vs peer: never "vs floor"
        self.assertIn("| ours | peer | 2.00x |", ratios[2])
        above = report.floor_table([ours, peer, floor])
        self.assertIn("| ours | 50.0 | 30.0 | 40 % |", above)
        self.assertIn("| peer | 80.0 | 60.0 | 25 % |", above)
        self.assertEqual(report.floor_table([ours, peer]), [])


def dhcp_frame_bytes(op: int, xid: int, mac: bytes, message_type: int, padding: int = 0) -> bytes:
    """Ethernet + IPv4 + UDP + BOOTP with option 53 (after `padding` pad options)."""
    bootp = bytes([op, 1, 6, 1]) + struct.pack(">I", xid) + bytes(20) + mac + bytes(10 + 192)
    bootp += b"\x63\x82\x53\x63" + bytes(padding) + bytes([53, 1, message_type, 255])
    udp = struct.pack(">HHHH", 67, 67, 8 + len(bootp), 0) + bootp
    ip = bytes([0x45, 0]) + struct.pack(">H", 20 + len(udp)) + bytes(5) + bytes([17]) + bytes(10)
    return bytes(6) + mac + b"\x08\x00" + ip + udp


def pcap_bytes(frames, nanoseconds: bool = True) -> bytes:
    """A little-endian classic pcap of (seconds, frame bytes)."""
    magic = 0xA1B23C4D if nanoseconds else 0xA1B2C3D4
    out = struct.pack("<IHHiIII", magic, 2, 4, 0, 0, 65535, 1)
    for seconds, frame in frames:
        whole = int(seconds)
        fraction = round((seconds - whole) * (1e9 if nanoseconds else 1e6))
        out += struct.pack("<IIII", whole, fraction, len(frame), len(frame)) + frame
    return out


class WireTests(unittest.TestCase):
    MAC_A, MAC_B = bytes.fromhex("020000010000"), bytes.fromhex("020000010001")

    def capture(self, frames, nanoseconds=True) -> Path:
        directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, directory)
        path = directory / "run.pcap"
        path.write_bytes(pcap_bytes(frames, nanoseconds))
        return path

    def test_exchange_is_offer_turnaround_plus_ack_turnaround(self):
        path = self.capture([
            (10.000000, dhcp_frame_bytes(1, 7, self.MAC_A, 1)),        # DISCOVER
            (10.000100, dhcp_frame_bytes(2, 7, self.MAC_A, 2, 12)),    # OFFER after 0.1 ms (53 past padding)
            (10.002000, dhcp_frame_bytes(1, 8, self.MAC_A, 3)),        # REQUEST
            (10.002300, dhcp_frame_bytes(2, 8, self.MAC_A, 5)),        # ACK after 0.3 ms
            (10.003000, dhcp_frame_bytes(1, 8, self.MAC_A, 7)),        # RELEASE: no reply expected
            (10.004000, dhcp_frame_bytes(1, 9, self.MAC_B, 1)),        # DISCOVER never answered
        ])
        frames = list(dhcp_frames(path))
        self.assertEqual([f.message_type for f in frames], [1, 2, 3, 5, 7, 1])
        self.assertEqual(frames[1].chaddr, "02:00:00:01:00:00")
        latency = turnarounds(frames)
        self.assertEqual(len(latency.exchanges_ms), 1)
        self.assertAlmostEqual(latency.exchanges_ms[0], 0.4, places=6)
        self.assertEqual(len(latency.replies_ms), 2)
        self.assertEqual(latency.unanswered, 1)
        self.assertIn("1 exchanges, p50 0.400 ms", latency.summary())
        self.assertEqual(WireLatency(error="no exchange captured").summary(), "no exchange captured")

    def test_reply_to_an_uncaptured_request_is_ignored(self):
        path = self.capture([(1.0, dhcp_frame_bytes(2, 5, self.MAC_A, 2)),
                             (1.5, dhcp_frame_bytes(2, 6, self.MAC_A, 5))], nanoseconds=False)
        latency = turnarounds(dhcp_frames(path))
        self.assertEqual((latency.exchanges_ms, latency.replies_ms, latency.unanswered), ([], [], 0))

    def test_not_a_capture_is_an_error(self):
        path = self.capture([])
        path.write_bytes(b"not a pcap file at all, just text")
        with self.assertRaises(CaptureError):
            list(dhcp_frames(path))

    def test_report_shows_wire_columns(self):
        ours = ServerResult("ours", "ours", clean_rate=10_000, clean_confirmed=True, cpu_us=50.0, p99_ms=1.25,
                            p99_fifo_ms=0.5, wire_latency=WireLatency(exchanges_ms=[0.1, 0.2, 0.3]))
        broken = ServerResult("peer", "peer", wire_latency=WireLatency(error="no exchange captured"))
        table = report.figures_table([ours, broken])
        self.assertIn("| Wire p50 (ms) | Wire p99 (ms) |", table[0])
        self.assertIn("| 1.250 | 0.500 | 0.200 | 0.300 |", table[2])
        cells = [cell.strip() for cell in table[3].split("|")[1:-1]]
        self.assertEqual(cells[7:9], ["–", "–"])   # a failed capture shows no figure


if __name__ == "__main__":
    unittest.main()
