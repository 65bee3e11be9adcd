import CLua
import DHCPModel

extension ScriptRuntime {
    /// Runs the metrics handlers (suspending on a shared store like a hook). Samples that are not
    /// well formed are left out and logged, naming what was wrong.
    public func startMetrics() throws(ScriptError) -> HookRun<[ScriptedMetric]> {
        enter()
        defer { leave() }
        let handler = pushHandler()
        pushPrivateField("collectMetrics")
        return try runHook(arguments: 0, handler: handler, what: "metrics handler") { runtime in
            runtime.readMetrics()
        }
    }

    private func readMetrics() -> [ScriptedMetric] {
        guard case .table(let samples, _) = ScriptValue.read(L, -1, depth: 4) else { return [] }
        var metrics: [ScriptedMetric] = []
        for sample in samples {
            guard case .table(_, let fields) = sample else {
                report(.error, "metrics handler: a sample must be a table {name=, value=, ...}")
                continue
            }
            if let error = fields["error"]?.textValue {
                report(.error, "metrics handler failed: \(error)")
                continue
            }
            guard let name = fields["name"]?.textValue, Self.isMetricName(name) else {
                report(.error, "metrics handler: sample name \(fields["name"]?.textValue.map { "'\($0)'" } ?? "(none)") must be letters, digits and '_', starting with a letter")
                continue
            }
            guard let value = fields["value"]?.numberValue else {
                report(.error, "metrics handler: sample \(name) has no numeric value")
                continue
            }
            let type = fields["type"]?.textValue ?? "gauge"
            guard type == "gauge" || type == "counter" else {
                report(.error, "metrics handler: sample \(name) has type '\(type)'; expected gauge or counter")
                continue
            }
            var labels: [String: String] = [:]
            if case .table(_, let pairs)? = fields["labels"] {
                for (key, value) in pairs where Self.isMetricName(key) {
                    if let text = value.textValue { labels[key] = text }
                }
            }
            metrics.append(ScriptedMetric(name: name, help: fields["help"]?.textValue ?? "", type: type, labels: labels, value: value))
        }
        return metrics
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, (first | 0x20) >= 97, (first | 0x20) <= 122 else { return false }
        return name.utf8.allSatisfy { ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
    }
}
