import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dates and numbers as the pages print them, built from `localtime_r`/`gmtime_r` and integer
/// arithmetic. A page prints hundreds of them (one or two per log record and client row, one per
/// chart point); `DateFormatter` and `String(format:)` cost microseconds each on Linux, which made
/// them most of the dashboard's render time.
enum TimeText {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func broken(_ date: Date, utc: Bool) -> tm {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        if utc { _ = gmtime_r(&seconds, &parts) } else { _ = localtime_r(&seconds, &parts) }
        return parts
    }

    /// `7` -> `07`.
    static func twoDigits(_ value: Int32) -> String { value < 10 && value >= 0 ? "0\(value)" : "\(value)" }
    static func twoDigits(_ value: Int) -> String { twoDigits(Int32(truncatingIfNeeded: value)) }

    private static func clock(_ parts: tm) -> String {
        "\(twoDigits(parts.tm_hour)):\(twoDigits(parts.tm_min)):\(twoDigits(parts.tm_sec))"
    }

    private static func day(_ parts: tm) -> String {
        "\(parts.tm_year + 1900)-\(twoDigits(parts.tm_mon + 1))-\(twoDigits(parts.tm_mday))"
    }

    /// `2026-11-20 14:03:22 UTC` in the server's time zone.
    static func timestamp(_ date: Date) -> String {
        let parts = broken(date, utc: false)
        let zone = parts.tm_zone.map { String(cString: $0) } ?? ""
        return day(parts) + " " + clock(parts) + (zone.isEmpty ? "" : " " + zone)
    }

    /// `14:03:22` in the server's time zone.
    static func clockTime(_ date: Date) -> String { clock(broken(date, utc: false)) }

    /// `2026-11-20T14:03:22Z`.
    static func iso8601(_ date: Date) -> String {
        let parts = broken(date, utc: true)
        return day(parts) + "T" + clock(parts) + "Z"
    }

    /// RFC 9110 IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`.
    static func httpDate(_ date: Date) -> String {
        let parts = broken(date, utc: true)
        let weekday = weekdays[Int(parts.tm_wday) % 7], month = months[Int(parts.tm_mon) % 12]
        return "\(weekday), \(twoDigits(parts.tm_mday)) \(month) \(parts.tm_year + 1900) \(clock(parts)) GMT"
    }

    /// `value` rounded to `decimals` (0 to 3) places, e.g. `12.5`, `-0.25`; what `%.Nf` prints.
    static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "0" }
        let scale = [1.0, 10, 100, 1000][min(max(decimals, 0), 3)]
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 1e15 else { return String(Int(value)) }
        let whole = Int(scaled) / Int(scale), fraction = Int(scaled) % Int(scale)
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard decimals > 0 else { return "\(sign)\(whole)" }
        var digits = String(fraction)
        while digits.count < decimals { digits = "0" + digits }
        return "\(sign)\(whole).\(digits)"
    }
}
