import DHCPWire
import Databases
import Foundation
import Scripting
import Testing

/// `X_HTTPDB_*`: the HTTP engine's settings as conf.lua spells them.
@Suite struct SettingsHTTPDBTests {
    static let http = "DHCP_SERVER_IP = \"192.0.2.1\"\nDATABASE_ENGINE = \"HTTP\"\n"

    /// The settings problems conf.lua `source` produces (empty when it is accepted).
    static func problems(_ source: String) -> String {
        do {
            _ = try makeRuntime(source, settings: http)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test func everySettingIsReadWithItsDefaults() throws {
        let (plain, _) = try makeRuntime("X_HTTPDB_URI = \"http://127.0.0.1:8080/lookup\"\n", settings: Self.http)
        var expected = DatabaseConfiguration.HTTP()
        expected.uri = "http://127.0.0.1:8080/lookup"
        #expect(plain.settings.httpdb == expected)
        #expect(plain.settings.other["X_HTTPDB_URI"] == .string("http://127.0.0.1:8080/lookup"), "extensions still see X_* globals")

        let (full, _) = try makeRuntime("""
            X_HTTPDB_URI = "https://dhcp.example.test/lookup"
            X_HTTPDB_HEADERS = {Authorization = "Bearer t", ["X-Site"] = "north"}
            X_HTTPDB_PARAMETERS = {site = "north", level = 3, ratio = 0.5, strict = true, nested = {a = 1}}
            X_HTTPDB_PARAMETER_KEY_MAC = "hw"
            X_HTTPDB_POST = true
            X_HTTPDB_DEFAULT_NAME_SERVERS = {"192.0.2.53", "192.0.2.54"}
            X_HTTPDB_DEFAULT_LEASE_TIME = 3600
            X_HTTPDB_DEFAULT_SERIAL = 2
            X_HTTPDB_CONCURRENCY_LIMIT = 8
            """, settings: Self.http)
        let settings = full.settings.httpdb
        #expect(settings.uri == "https://dhcp.example.test/lookup")
        #expect(settings.headers == ["Authorization": "Bearer t", "X-Site": "north"])
        #expect(settings.parameters == [
            "site": .string("north"), "level": .integer(3), "ratio": .double(0.5), "strict": .bool(true),
            "nested": .table(["a": .integer(1)]),
        ])
        #expect(settings.macKey == "hw" && settings.post)
        #expect(settings.defaultNameServers == "192.0.2.53,192.0.2.54")
        #expect(settings.defaultLeaseTime == 3600 && settings.defaultSerial == 2 && settings.concurrencyLimit == 8)
    }

    @Test func theURIIsRequiredOnlyForTheHTTPEngine() throws {
        #expect(Self.problems("").contains("X_HTTPDB_URI: required when DATABASE_ENGINE is \"HTTP\""))
        // Another engine ignores the HTTP settings' absence.
        _ = try makeRuntime("")
    }

    @Test(arguments: [
        ("X_HTTPDB_URI = \"ftp://192.0.2.1/\"", "X_HTTPDB_URI 'ftp://192.0.2.1/' is not an http:// or https:// URI"),
        ("X_HTTPDB_URI = 5", "X_HTTPDB_URI: expected a string, found integer 5"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_HEADERS = {A = 1}",
         "X_HTTPDB_HEADERS: expected a table of name = \"string\" pairs, found integer 1 at 'A'"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_HEADERS = \"Authorization: x\"",
         "X_HTTPDB_HEADERS: expected a table of name = \"string\" pairs, found string"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_HEADERS = {[\"Bad Name\"] = \"x\"}",
         "X_HTTPDB_HEADERS: 'Bad Name' is not a valid HTTP header name"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_PARAMETERS = {\"a\", \"b\"}",
         "X_HTTPDB_PARAMETERS: expected a table of name = value pairs, found table (2 items, 0 keys)"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_PARAMETERS = {mac = \"x\"}",
         "X_HTTPDB_PARAMETERS has a key 'mac', which X_HTTPDB_PARAMETER_KEY_MAC reserves for the MAC"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_POST = false\nX_HTTPDB_PARAMETERS = {t = {1}}",
         "X_HTTPDB_PARAMETERS: 't' is a table, which a GET query string (X_HTTPDB_POST = false) cannot carry"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_POST = \"yes\"", "X_HTTPDB_POST: expected a boolean"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_DEFAULT_NAME_SERVERS = \"192.0.2.53,dns\"",
         "X_HTTPDB_DEFAULT_NAME_SERVERS: 'dns' is not an IPv4 address"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_DEFAULT_LEASE_TIME = -1",
         "X_HTTPDB_DEFAULT_LEASE_TIME: expected an integer in 0...4294967295, found -1"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_CONCURRENCY_LIMIT = 0",
         "X_HTTPDB_CONCURRENCY_LIMIT: expected an integer in 1...1000000, found 0"),
        ("X_HTTPDB_URI = \"http://127.0.0.1/\"\nX_HTTPDB_CONCURENCY_LIMIT = 4",
         "X_HTTPDB_CONCURENCY_LIMIT: not a setting of the HTTP engine; did you mean X_HTTPDB_CONCURRENCY_LIMIT?"),
    ])
    func badValuesAreReportedByName(_ source: String, _ message: String) {
        let problems = Self.problems(source)
        #expect(problems.contains(message), "\(problems)")
    }

    @Test func checkConfigReportsHTTPProblems() throws {
        let file = try writeConfig(Self.http + "X_HTTPDB_URI = \"gopher://192.0.2.1/\"\n")
        let report = ScriptRuntime.checkConfig(configFile: file)
        #expect(!report.isValid)
        #expect(report.errors.contains { $0.contains("is not an http:// or https:// URI") })
    }
}
