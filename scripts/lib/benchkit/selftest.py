"""Self-test of the harness's pure parts: python3 -m benchkit.selftest (no root, no network)."""
import shutil
import struct
import tempfile
import unittest
from pathlib import Path

from . import report
from .measure import Paced, Plan, ServerResult
from .perfdhcp import PerfdhcpError, parse_report, percentile
from .reservations import mac_for, reservations, sqlite_script
from .soak import RssSampler, SegmentedLoad, segment_lengths, Sample, SoakResult, SoakSettings, least_squares_slope, load_slopes, verdict
from .soakreport import figures_table, per_minute_lines, render, samples_csv
from .pcap import CaptureError, dhcp_frames
from .wire import WireLatency, turnarounds
from . import million, millionreport, pools, poolsreport


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


class PacedAndRecoveryTests(unittest.TestCase):
    def test_paced_table_compares_each_rate_with_the_floor(self):
        ours, floor = ServerResult("ours", "ours"), ServerResult("floor", "floor")
        ours.paced = {1000: Paced(60.0, 0.0), 4000: Paced(50.0, 0.001)}
        floor.paced = {1000: Paced(40.0, 0.0), 4000: Paced(40.0, 0.0)}
        lines = report.paced_table([ours, floor])
        self.assertIn("1,000/s", lines[0])
        self.assertIn("60.0 (1.50x), 0.00 %", lines[2])
        self.assertIn("50.0 (1.25x), 0.10 %", lines[2])
        self.assertNotIn("x)", lines[3])

    def test_paced_cells_show_the_user_space_share_when_measured(self):
        ours, floor = ServerResult("ours", "ours"), ServerResult("floor", "floor")
        ours.paced = {4000: Paced(90.0, 0.0, user_us=55.0)}
        floor.paced = {4000: Paced(45.0, 0.0, user_us=1.5)}
        lines = report.paced_table([ours, floor])
        self.assertIn("user space", lines[0])
        self.assertIn("90.0 (2.00x; user 55.0), 0.00 %", lines[2])
        self.assertIn("45.0 (user 1.5), 0.00 %", lines[3])

    def test_recovery_table_shows_only_measured_servers(self):
        measured, skipped = ServerResult("ours", "ours"), ServerResult("peer", "coredhcp")
        measured.clean_rate, measured.overload_drop_ratio, measured.recovered_drop_ratio = 5000, 0.4, 0.002
        lines = report.recovery_table([measured, skipped])
        self.assertEqual(len(lines), 3)
        self.assertIn("| ours | 10,000 | 40.00 % | 0.200 % |", lines[2])

    def test_a_migrated_database_keeps_the_rollback_journal(self):
        entries = reservations("02:00:00:01:00:00", 3)
        self.assertTrue(sqlite_script(entries).startswith("PRAGMA journal_mode=WAL;"))
        self.assertTrue(sqlite_script(entries, wal=False).startswith("PRAGMA journal_mode=DELETE;"))

    def test_quick_plan_keeps_every_step_short(self):
        quick = Plan.quick()
        self.assertEqual(quick.paced_rates, (1000,))
        self.assertLessEqual(quick.overload_seconds + quick.recovery_seconds + quick.recovered_seconds, 10)
        self.assertEqual(Plan().paced_rates, (1000, 4000, 10000))


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
        self.assertIn("| ours | 50.0 | 30.0 | 40 % | 0.50x |", above)
        self.assertIn("| peer | 80.0 | 60.0 | 25 % | 0.25x |", above)
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


def fake_step(limit: int, daemons: int = 1):
    """A step function for the search: clean up to `limit` per daemon, lossy above."""
    taken = []

    def step(rate, run=0):
        lost = 0 if rate <= limit else rate // 10
        loads = [pools.LoadCounts(rate * 4, rate * 4 - lost, lost) for _ in range(daemons)]
        result = pools.Step(rate, 4, pools.verdict(loads, rate, 4, pools.ALLOCATION_DROP_LIMIT), loads, run=run)
        taken.append(rate)
        return result
    return step, taken


def pool_step(rate, daemons=1, cpu=None, commits=None, duplicates=0, run=1, p99=None):  # commits: conflicts per 1,000
    loads = [pools.LoadCounts(rate * 4, rate * 4, 0, p99_ms=p99) for _ in range(daemons)]
    step = pools.Step(rate, 4, "clean", loads, run=run)
    step.cpu_us = dict(cpu or {})
    if commits is not None:
        step.postgres = {"conflicts": int(commits * rate * 4 * daemons / 1000)}
    step.store = pools.StoreCheck(bound=rate * 4 * daemons, duplicates=duplicates)
    return step


class PoolsTests(unittest.TestCase):
    def test_rates_round_to_steps(self):
        self.assertEqual([pools.round_rate(r) for r in (1449, 1450, 999, 124, 74, 3)], [1400, 1500, 1000, 100, 70, 10])

    def test_pool_addresses_and_store_keys_are_dynamisms(self):
        self.assertEqual(pools.pool_address(0), pools.POOL_FIRST)
        self.assertEqual(pools.pool_address(pools.POOL_SIZE - 1), pools.POOL_LAST)
        self.assertEqual(pools.pool_address(254), "198.18.1.0")
        self.assertEqual(pools.address_key("198.18.1.2"), "dynamism/bench/A/198.018.001.002")
        self.assertEqual(pools.lease_key("02:00:00:01:00:0a"), "dynamism/bench/L/02:00:00:01:00:0a")
        # StoreCodec: keys sorted, no spaces, integers as integers.
        self.assertEqual(pools.store_value({"state": "bound", "mac": "m", "expires": 5}),
                         '{"expires":5,"mac":"m","state":"bound"}')
        leases = pools.renewal_leases(300, 99)
        self.assertEqual(leases[257][:2], ("02:00:00:01:01:01", "198.18.1.3"))
        self.assertEqual(leases[0][2][1], ("dynamism/bench/L/02:00:00:01:00:00",
                                           '{"expires":99,"ip":"198.18.0.2","state":"bound"}'))
        self.assertEqual(len({ip for _, ip, _ in leases}), 300)

    def test_proc_stat_gives_parent_own_and_reaped_ticks(self):
        stat = "4242 (postgres: a b) S 17 4242 4242 0 -1 4194560 1 0 0 0 30 12 7 5 20 0 1 0 100 0 0"
        self.assertEqual(pools.parse_proc_stat(stat), (17, 42, 12))

    def test_renew_load_summary(self):
        counts = pools.parse_renew_output("renew_load: sent 1000 acked 990 naked 3 unanswered 5 late 2 "
                                          "p50_ms 0.210 p99_ms 1.500 elapsed 1.302\n")
        self.assertEqual((counts.initiated, counts.completed, counts.lost, counts.naked), (1000, 990, 10, 3))
        self.assertAlmostEqual(counts.drop_ratio, 0.01)
        self.assertEqual((counts.p50_ms, counts.p99_ms), (0.21, 1.5))
        with self.assertRaises(PerfdhcpError):
            pools.parse_renew_output("renew_load: bind to port 67: Address already in use")

    def test_step_verdict_needs_every_generator_clean_and_on_schedule(self):
        clean = pools.LoadCounts(4000, 3980, 20)       # 0.5 % lost
        lossy = pools.LoadCounts(4000, 3900, 100)      # 2.5 %
        short = pools.LoadCounts(3000, 3000, 0)        # 75 % of 4000 due
        self.assertEqual(pools.verdict([clean], 1000, 4, 0.01), "clean")
        self.assertEqual(pools.verdict([clean, lossy], 1000, 4, 0.01), "drops")
        self.assertEqual(pools.verdict([clean, short], 1000, 4, 0.01), "short")
        self.assertEqual(pools.verdict([clean], 1000, 4, 0.001), "drops")

    def test_store_check_finds_duplicates_inconsistencies_and_moves(self):
        A, L, v = pools.address_key, pools.lease_key, pools.store_value
        rows = [
            (A("198.18.0.2"), v({"mac": "02:00:00:01:00:00", "state": "bound", "expires": 9})),
            (L("02:00:00:01:00:00"), v({"ip": "198.18.0.2", "state": "bound", "expires": 9})),
            (A("198.18.0.3"), v({"mac": "02:00:00:01:00:01", "state": "offered", "expires": 9})),
            (L("02:00:00:01:00:01"), v({"ip": "198.18.0.3", "state": "offered", "expires": 9})),
            # A second MAC whose index claims 198.18.0.2: a duplicate, and inconsistent with A/.
            (L("02:00:00:01:00:02"), v({"ip": "198.18.0.2", "state": "bound", "expires": 9})),
            # The warm-up's MACs do not count.
            (L("02:00:00:02:00:00"), v({"ip": "198.18.0.9", "state": "bound", "expires": 9})),
            (A("198.18.0.9"), "not json"),
        ]
        check = pools.check_store(rows, "02:00:00:01:")
        self.assertEqual((check.bound, check.offered, check.duplicates, check.mismatched, check.moved), (1, 1, 1, 1, 0))
        moved = pools.check_store(rows[:2], "02:00:00:01:", {"02:00:00:01:00:00": "198.18.0.7"})
        self.assertEqual((moved.bound, moved.moved), (1, 1))
        self.assertIn("1 duplicate addresses", check.summary())
        self.assertEqual(pools.StoreCheck(error="psql failed").summary(), "store check failed: psql failed")

    def test_first_run_doubles_then_bisects(self):
        step, taken = fake_step(2600)
        best, steps = pools.search_run(step, pools.SearchPlan(1000, 14000, 4))
        self.assertEqual(taken, [1000, 2000, 4000, 3000, 2500])
        self.assertEqual(best.rate, 2500)
        self.assertEqual(len(steps), 5)

    def test_first_run_halves_when_the_first_rate_loses(self):
        step, taken = fake_step(300)
        best, _ = pools.search_run(step, pools.SearchPlan(1000, 14000, 4))
        self.assertEqual(taken[:2], [1000, 500])
        self.assertEqual(best.rate, max(rate for rate in taken if rate <= 300))

    def test_first_run_stops_at_the_ceiling(self):
        step, taken = fake_step(10 ** 9)
        best, _ = pools.search_run(step, pools.SearchPlan(1000, 5000, 4))
        self.assertEqual(taken, [1000, 2000, 4000, 5000])
        self.assertEqual(best.rate, 5000)

    def test_later_runs_move_by_ten_percent_from_the_seed(self):
        step, taken = fake_step(2750)
        best, _ = pools.search_run(step, pools.SearchPlan(1000, 14000, 4), seed=2500)
        self.assertEqual((taken, best.rate), ([2500, 2800], 2500))
        step, taken = fake_step(2000)
        best, _ = pools.search_run(step, pools.SearchPlan(1000, 14000, 4), seed=2500)
        self.assertEqual((taken, best.rate), ([2500, 2300, 2100, 1900], 1900))
        step, taken = fake_step(100)
        best, _ = pools.search_run(step, pools.SearchPlan(1000, 14000, 4), seed=2500)
        self.assertEqual((len(taken), best), (4, None))   # the seed and three steps down, none clean

    def test_search_seeds_each_run_with_the_previous_result(self):
        step, taken = fake_step(2600)
        bests, steps = pools.search(lambda rate, run: step(rate, run), pools.SearchPlan(1000, 14000, 4), lambda _: None)
        self.assertEqual([best.rate for best in bests], [2500, 2500, 2500])
        self.assertEqual(taken[5:], [2500, 2800, 2500, 2800])
        self.assertEqual(sorted({s.run for s in steps}), [1, 2, 3])

    def test_two_daemons_report_their_sum(self):
        step, taken = fake_step(1200, daemons=2)
        best, _ = pools.search_run(step, pools.SearchPlan(1000, 8000, 4))
        self.assertEqual(taken, [1000, 2000, 1500, 1300])
        self.assertEqual((best.rate, best.offered_total), (1000, 2000))

    def test_median_and_spread(self):
        self.assertEqual(pools.median_spread([3, None, 1, 2]), (2, 1, 3))
        self.assertIsNone(pools.median_spread([None]))
        self.assertEqual(poolsreport.spread([2000, 1800, 2400]), "2,000 (1,800-2,400)")
        self.assertEqual(poolsreport.spread([12.25], 1), "12.2")
        self.assertEqual(poolsreport.spread([]), "–")

    def test_lease_check_summary_is_read(self):
        text = ("lease_check: ACKs A=7990 B=8000; distinct MACs 8000; distinct addresses 8000; MACs ACKed by several "
                "servers 7990; duplicates 0 addresses (0 conflicting ACKs); changed addresses 0 MACs; releases/declines 0\n")
        check = pools.parse_lease_check(text, pools.WireCheck("x", 2000, 2, tap_drops=[0, 0]))
        self.assertEqual((check.acks, check.macs, check.shared, check.duplicates, check.changed), (15990, 8000, 7990, 0, 0))
        self.assertTrue(check.passed)
        failed = pools.parse_lease_check(text.replace("duplicates 0", "duplicates 3"), pools.WireCheck("y"))
        self.assertFalse(failed.passed)
        self.assertFalse(pools.parse_lease_check("Traceback ...", pools.WireCheck("z")).passed)

    def test_daemon_configuration_has_the_pool_and_the_store(self):
        directory = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, directory)

        class Store:
            def conf_lines(self):
                return ['STORE_ENGINE = "PostgreSQL"']
        topology = pools.PoolsTopology("cli", pools.make_sites("a", "ia", "b", "ib"), "pg")
        fleet = pools.Fleet(pools.POSTGRES_2, topology, directory, "/bin/true", 1, Store(), directory / "r.sqlite3")
        conf = (directory / "pg2" / "B" / "conf.lua").read_text()
        self.assertIn('DHCP_SERVER_IP = "198.51.100.3"', conf)
        self.assertIn('STORE_ENGINE = "PostgreSQL"', conf)
        self.assertIn('relays = {"198.51.100.2", "198.51.100.4"}', conf)
        self.assertIn('first = "198.18.0.2", last = "198.18.255.254"', conf)
        self.assertIn("dynamism.handle(packet", conf)
        self.assertTrue((directory / "pg2" / "A" / "staticDHCPd_extensions" / "dynamism.lua").exists())
        static = pools.Fleet(pools.STATIC_SQLITE, topology, directory, "/bin/true", 1, None, directory / "r.sqlite3")
        text = (directory / "static-sqlite" / "A" / "conf.lua").read_text()
        self.assertNotIn("STORE_ENGINE", text)
        self.assertNotIn("dynamism", text)
        self.assertIn("packet.meta.seen", text)
        self.assertEqual(len(static.sites), 1)

    def result(self, pair_rates=(1000, 1100, 900), renew_rates=(3000, 2500, 2600), duplicates=0, wire_ok=True):
        allocate = pools.Row(pools.POSTGRES_2, "allocate",
                             bests=[pool_step(r, 2, {"A": 300.0 + i, "B": 310.0, "PostgreSQL": 200.0}, 6.0, duplicates)
                                    for i, r in enumerate(pair_rates)])
        allocate.steps = list(allocate.bests)
        renew = pools.Row(pools.POSTGRES_2, "renew", bests=[pool_step(r, 2, {"A": 90.0}, 3.0, p99=2.0) for r in renew_rates])
        renew.steps = list(renew.bests)
        sqlite = pools.Row(pools.STATIC_SQLITE, "static", bests=[pool_step(r, 1, {"A": 40.0}) for r in (16000, 18000, 17000)],
                           fixed=[pool_step(10000, 1, {"A": cpu}) for cpu in (55.0, 57.0, 56.0)])
        postgres = pools.Row(pools.STATIC_POSTGRES, "static", bests=[pool_step(r, 1, {"A": 42.0}) for r in (15000, 17000, 16000)],
                             fixed=[pool_step(10000, 1, {"A": cpu, "PostgreSQL": 0.1}) for cpu in (58.0, 60.0, 59.0)])
        check = pools.WireCheck("allocate: 2 daemons", 1000, 2, acks=8000, macs=4000, duplicates=0 if wire_ok else 2,
                                changed=0, tap_drops=[0, 0], step=allocate.bests[0])
        return pools.PoolsResult(rows=[allocate, renew, sqlite, postgres], wire=[check])

    def test_targets_are_judged_on_the_two_daemon_medians(self):
        lines = poolsreport.target_lines(self.result())
        self.assertIn("2,000 new allocations/s across two daemons on one PostgreSQL: **met** (median 2,000/s, runs 1,800-2,200/s)", lines[0])
        self.assertIn("5,000 renewals/s across two daemons on one PostgreSQL: **met** (median 5,200/s", lines[1])
        self.assertIn("zero duplicates: **met**", lines[2])
        self.assertIn("static clients unchanged within noise: **NOT met**", lines[3])   # 55-57 against 58-60 µs
        self.assertIn("+5.4 %", lines[3])
        worse = poolsreport.target_lines(self.result(pair_rates=(900, 950, 1000), duplicates=1, wire_ok=False))
        self.assertIn("**NOT met** (median 1,900/s", worse[0])
        self.assertIn("zero duplicates: **NOT met**", worse[2])

    def test_static_verdict_needs_a_spread_on_both_sides(self):
        result = self.result()
        result.rows[3].fixed = result.rows[3].fixed[:1]
        self.assertIn("static clients unchanged within noise: not judged", poolsreport.target_lines(result)[3])

    def test_a_run_of_some_rows_judges_only_what_it_measured(self):
        # scripts/bench --pools --only renew:pg1: no two-daemon row and no capture checked.
        self.assertEqual(pools.row_name(pools.RENEW, pools.POSTGRES_1), "renew:pg1")
        self.assertNotIn("renew:pg1", pools.row_name(pools.RENEW, pools.POSTGRES_2))
        renew = pools.Row(pools.POSTGRES_1, "renew", bests=[pool_step(2000, 1, {"A": 355.0}, 0.0)])
        renew.steps = list(renew.bests)
        lines = poolsreport.target_lines(pools.PoolsResult(rows=[renew]))
        self.assertIn("5,000 renewals/s across two daemons on one PostgreSQL: not measured", lines[1])
        self.assertIn("zero duplicates: **not judged (no capture checked)**", lines[2])
        broken = pools.Row(pools.POSTGRES_1, "renew", bests=[pool_step(2000, 1, {"A": 355.0}, 0.0, 1)])
        broken.steps = list(broken.bests)
        self.assertIn("zero duplicates: **NOT met**", poolsreport.target_lines(pools.PoolsResult(rows=[broken]))[2])

    def test_pools_report_has_every_table(self):
        result = self.result()
        result.rows[0].steps[0].log_lines = ["A: 2026-01-01 10:00:00 WARNING pool bench is exhausted; no address for 02:00:00:01:00:05"]
        text = poolsreport.render(result, {"date": "2026-01-01 10:00", "settings": {"mode": "full"}})
        for heading in ("## Targets", "## New allocations", "## Renewals", "## Static clients", "## Duplicates on the wire",
                        "## Daemon log lines", "## Steps"):
            self.assertIn(heading, text)
        self.assertIn("| 2 daemons, one PostgreSQL store | 2,000 (1,800-2,200) | 301.0 (300.0-302.0) | 310.0 (310.0-310.0) "
                      "| 200.0 (200.0-200.0) | 30 (27-33) / 31 (28-34) / 40 (36-44) | 6.0 (5.9-6.0) | – | – |", text)
        self.assertIn("| SQLite + Lua hook, STORE_ENGINE PostgreSQL | 16,000 (15,000-17,000) | 42.0 (42.0-42.0) "
                      "| 59.0 (58.0-60.0) |", text)
        self.assertIn("1 x `WARNING pool bench is exhausted; no address for N:N:N:N:N:N`", text)
        self.assertIn("| 2.00 (2.00-2.00) |", text)   # renewal p99
        self.assertEqual(pools.serving_lines("a\nAll subsystems initialised\nb\nc\nSystem shutdown beginning\nd"), ["b", "c"])
        self.assertEqual(pools.serving_lines("x\ny"), ["x", "y"])
        self.assertEqual(set(pools.PoolsPlan.full().searches), set(pools.PoolsPlan.RATES))
        self.assertIn("run 1: 1,000x2:clean", text)


def million_cell(engine, size, cpu, startup=0.05, reload=0.01, rss_mb=30.0, load_seconds=1.0):
    cell = million.Cell(engine, size, million.Load(load_seconds, 100 * 1024 if engine == "SQLite" else None))
    cell.cpu_us = {1000: cpu}
    cell.drops = {1000: [0.0] * len(cpu)}
    cell.startup_s, cell.reload_s = [startup], [reload]
    cell.rss_started_kib = cell.rss_reloaded_kib = [int(rss_mb * 1024)]
    cell.peak_rss_kib = {1000: [int(rss_mb * 1024)]}
    return cell


class MillionTests(unittest.TestCase):
    def test_csv_and_subnets_follow_the_reservations(self):
        entries = reservations("02:00:00:01:00:00", 251)
        self.assertEqual(million.maps_csv(entries[250:]), "02:00:00:01:00:fa,203.0.113.1,203.0.113.0/24,1\n")
        self.assertEqual(million.subnet_rows(251).count("INSERT INTO subnets"), 2)
        self.assertEqual(million.subnet_rows(250).count("INSERT INTO subnets"), 1)

    def test_reload_duration_is_read_for_its_generation(self):
        log = ("WARNING : System reinitialisation complete: generation 1 is live (0.0100 s)\n"
               "WARNING : System reinitialisation complete: generation 2 is live (0.0074 s)\n")
        self.assertEqual(million.reload_seconds(log, 2), 0.0074)
        self.assertIsNone(million.reload_seconds(log, 3))

    def test_verdict_compares_the_largest_size_with_the_smallest(self):
        result = million.MillionResult([million_cell("SQLite", 10_000, [50.0, 52.0, 54.0]),
                                        million_cell("SQLite", 1_000_000, [56.0, 58.0, 60.0], load_seconds=12.0),
                                        million_cell("PostgreSQL", 10_000, [100.0]),
                                        million_cell("PostgreSQL", 1_000_000, [130.0], rss_mb=70.0)])
        lines = millionreport.verdicts(result, (1000,))
        self.assertIn("1,000/s 1.12x (target at most 1.10x: not met at 1,000/s)", lines[0])
        self.assertIn("`staticdhcpd db import` 12.0 s (under 30 s)", lines[1])
        self.assertIn("1,000/s 1.30x", lines[2])
        self.assertIn("largest RSS seen 70.0 MB (NOT under 64 MB)", lines[3])
        text = millionreport.render(result, (1000,), {"date": "d", "settings": {"mode": "m"}})
        self.assertIn("| SQLite | 1,000,000 | 58.0 (56.0-60.0) (0.00 %) |", text)
        self.assertIn("1,000/s 70.0 |", text)
        # A rate one database was not run at reads as a dash, and is left out of its verdict.
        text = millionreport.render(result, (1000, 4000), {"date": "d", "settings": {"mode": "m"}})
        self.assertIn("| PostgreSQL | 10,000 | 100.0 (0.00 %) | – |", text)
        self.assertNotIn("4,000/s –", text)


if __name__ == "__main__":
    unittest.main()
