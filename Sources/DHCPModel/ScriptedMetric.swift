/// One sample a script gives `/metrics` through `callbacks.metricsAddHandler`: the handler returns
/// a list of `{name=, value=, help=, type="gauge"|"counter", labels={key="value"}}`, shown as
/// `staticdhcpd_<name>{labels} value`.
public struct ScriptedMetric: Sendable, Codable, Equatable {
    public var name: String
    public var help: String
    /// "gauge" or "counter".
    public var type: String
    public var labels: [String: String]
    public var value: Double

    public init(name: String, help: String, type: String, labels: [String: String], value: Double) {
        self.name = name
        self.help = help
        self.type = type
        self.labels = labels
        self.value = value
    }
}
