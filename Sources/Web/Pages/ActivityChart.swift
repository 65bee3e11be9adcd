import Foundation

/// Server-side rendering of the activity chart. The script in `Assets.javascript` (drawActivity)
/// redraws the same picture from /api/activity; keep the two geometries in step.
enum ActivityChart {
    static let width = 600.0, height = 170.0, left = 40.0, bottom = 16.0, top = 8.0

    static func svg(_ activity: ActivitySeries) -> String {
        let names = activity.series.keys.sorted()
        let count = activity.series.values.map(\.count).max() ?? 0
        let peak = activity.series.values.reduce(0.0) { max($0, $1.max() ?? 0) }
        let ceiling = niceMaximum(peak)
        var svg = "<svg id=\"activity-chart\" class=\"chart\" viewBox=\"0 0 600 170\" role=\"img\" aria-label=\"packets per second by method, last hour\" data-updated=\"\(iso(activity.end))\">"
        for step in 0...4 {
            let y = top + (height - bottom - top) * Double(step) / 4 + 0.5
            svg += "<line class=\"grid\" x1=\"\(Int(left))\" x2=\"\(Int(width))\" y1=\"\(y)\" y2=\"\(y)\"/>"
            svg += "<text class=\"axis\" x=\"\(Int(left) - 4)\" y=\"\(y + 3)\" text-anchor=\"end\">\(formatRate(ceiling * Double(4 - step) / 4))</text>"
        }
        for (index, label) in ["-60m", "-45m", "-30m", "-15m", "now"].enumerated() {
            let anchor = index == 0 ? "start" : (index == 4 ? "end" : "middle")
            let x = left + (width - left) * Double(index) / 4
            svg += "<text class=\"axis\" x=\"\(x)\" y=\"\(height - 2)\" text-anchor=\"\(anchor)\">\(label)</text>"
        }
        let span = Double(max(count - 1, 1))
        for (index, name) in names.enumerated() {
            let points = activity.series[name] ?? []
            let coordinates = points.enumerated().map { offset, value in
                let x = left + (width - left) * Double(offset + count - points.count) / span
                let y = top + (height - bottom - top) * (1 - value / ceiling)
                return TimeText.fixed(x, decimals: 1) + "," + TimeText.fixed(y, decimals: 1)
            }.joined(separator: " ")
            svg += "<polyline class=\"s\(index % 8)\" points=\"\(coordinates)\" data-method=\"\(HTML.escape(name))\"/>"
        }
        return svg + "</svg>"
    }

    static func legend(_ activity: ActivitySeries) -> String {
        let items = activity.series.keys.sorted().enumerated().map { index, name in
            let current = activity.series[name]?.last ?? 0
            return "<span class=\"s\(index % 8)\">\(HTML.escape(name))<b>\(formatRate(current))/s</b></span>"
        }
        return "<div id=\"activity-legend\" class=\"legend\">\(items.joined())</div>"
    }

    /// The smallest of 1, 2, 2.5, 5 x 10^n at or above `value` (1 for an idle server).
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1, 2, 2.5, 5, 10] where step * magnitude >= value * (1 - 1e-12) {
            return step * magnitude
        }
        return 10 * magnitude
    }

    static func formatRate(_ value: Double) -> String {
        TimeText.fixed(value, decimals: value >= 10 ? 0 : (value >= 1 ? 1 : 2))
    }

    static func iso(_ date: Date) -> String { TimeText.iso8601(date) }
}
