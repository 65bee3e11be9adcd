import Foundation

/// HTML escaping and small formatting helpers shared by the pages.
enum HTML {
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }

    static func escape(_ text: String?) -> String { text.map { escape($0) } ?? "" }

    /// `2026-11-20 14:03:22 UTC`-style local time.
    static func timestamp(_ date: Date) -> String { TimeText.timestamp(date) }

    static func clockTime(_ date: Date) -> String { TimeText.clockTime(date) }

    /// `3d 04h 12m`, `4h 05m 10s` or `42s`.
    static func duration(_ seconds: TimeInterval) -> String {
        let total = seconds.isFinite ? max(0, Int(min(seconds, 1e15))) : 0
        let days = total / 86_400, hours = (total % 86_400) / 3_600, minutes = (total % 3_600) / 60, secs = total % 60
        let two = TimeText.twoDigits as (Int) -> String
        if days > 0 { return "\(days)d \(two(hours))h \(two(minutes))m" }
        if hours > 0 { return "\(hours)h \(two(minutes))m \(two(secs))s" }
        if minutes > 0 { return "\(minutes)m \(two(secs))s" }
        return "\(secs)s"
    }

    /// `12s ago`, `5m ago`.
    static func age(of date: Date, now: Date) -> String {
        HTML.duration(now.timeIntervalSince(date)) + " ago"
    }

    /// A query-string value: everything but unreserved characters percent-encoded (safe in HTML too).
    static func queryEscape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: queryValueCharacters) ?? ""
    }

    private static let queryValueCharacters = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")

    /// The form field carrying `token`; nothing for a visitor who has none (the form is then refused).
    static func hiddenCSRF(_ token: String?) -> String {
        guard let token else { return "" }
        return "<input type=\"hidden\" name=\"csrf\" value=\"\(escape(token))\">"
    }
}
