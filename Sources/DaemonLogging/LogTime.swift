import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Timestamps for log lines, file names and mail headers, from `localtime_r` and integers.
/// `DateFormatter` and `Calendar` load ICU's locale data (megabytes of resident memory) and cost
/// microseconds per call; a log line needs neither.
enum LogTime {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func local(_ date: Date) -> tm {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        _ = localtime_r(&seconds, &parts)
        return parts
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        var text = String(value)
        while text.count < width { text = "0" + text }
        return text
    }

    /// `2026-11-27` in the server's time zone.
    static func day(_ date: Date) -> String {
        let parts = local(date)
        return "\(padded(Int(parts.tm_year) + 1900, 4))-\(padded(Int(parts.tm_mon) + 1, 2))-\(padded(Int(parts.tm_mday), 2))"
    }

    /// `2026-11-27 16:03:22,123`: the original's log line time.
    static func logLine(_ date: Date) -> String {
        let parts = local(date)
        let seconds = date.timeIntervalSince1970
        let millis = Int(((seconds - seconds.rounded(.down)) * 1000).rounded(.down))
        return day(date) + " \(padded(Int(parts.tm_hour), 2)):\(padded(Int(parts.tm_min), 2)):\(padded(Int(parts.tm_sec), 2)),\(padded(millis, 3))"
    }

    /// RFC 5322: `Fri, 27 Nov 2026 16:03:22 +0000`.
    static func rfc5322(_ date: Date) -> String {
        let parts = local(date)
        let offset = Int(parts.tm_gmtoff) / 60
        let sign = offset < 0 ? "-" : "+"
        let zone = sign + padded(abs(offset) / 60, 2) + padded(abs(offset) % 60, 2)
        return "\(weekdays[Int(parts.tm_wday) % 7]), \(padded(Int(parts.tm_mday), 2)) \(months[Int(parts.tm_mon) % 12]) "
            + "\(Int(parts.tm_year) + 1900) \(padded(Int(parts.tm_hour), 2)):\(padded(Int(parts.tm_min), 2)):\(padded(Int(parts.tm_sec), 2)) \(zone)"
    }
}
