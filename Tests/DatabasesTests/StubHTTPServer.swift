import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// One request as the stub server saw it.
struct StubRequest: Sendable {
    let method: String
    /// Path and query, as sent.
    let uri: String
    let headers: [(name: String, value: String)]
    let body: String

    var path: String { String(uri.prefix { $0 != "?" }) }

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The query string's pairs, percent-decoded.
    var query: [String: String] {
        guard let start = uri.firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in uri[uri.index(after: start)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            result[key] = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
        }
        return result
    }

    /// The body as a JSON object (nil when it is not one).
    var jsonObject: [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }
}

/// What the stub answers.
struct StubResponse: Sendable {
    var status: Int = 200
    var body: String = ""
    /// Seconds to wait before answering (the concurrency tests use it).
    var delay: Double = 0

    static func json(_ body: String) -> StubResponse { StubResponse(body: body) }
}

/// A tiny HTTP/1.1 server on 127.0.0.1 and an ephemeral port, answering with `handler` and
/// recording every request and the most requests it ever held at once.
final class StubHTTPServer: Sendable {
    private struct Record {
        var requests: [StubRequest] = []
        var open = 0
        var peak = 0
    }

    let port: Int
    private let channel: any Channel
    private let record = Mutex(Record())

    var uri: String { "http://127.0.0.1:\(port)/lookup" }
    var requests: [StubRequest] { record.withLock { $0.requests } }
    /// The most requests that were being answered at the same moment.
    var peakConcurrency: Int { record.withLock { $0.peak } }

    static func start(port: Int = 0, _ handler: @escaping @Sendable (StubRequest) -> StubResponse) async throws -> StubHTTPServer {
        let box = Mutex<StubHTTPServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(StubHandler(handler: handler) { event in
                        box.withLock { $0 }?.note(event)
                    })
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        let server = StubHTTPServer(channel: channel)
        box.withLock { $0 = server }
        return server
    }

    private init(channel: any Channel) {
        self.channel = channel
        port = channel.localAddress?.port ?? 0
    }

    fileprivate enum Event { case began(StubRequest), ended }

    private func note(_ event: Event) {
        record.withLock { record in
            switch event {
            case .began(let request):
                record.requests.append(request)
                record.open += 1
                record.peak = max(record.peak, record.open)
            case .ended:
                record.open -= 1
            }
        }
    }

    func stop() async {
        try? await channel.close()
    }
}

private final class StubHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let handler: @Sendable (StubRequest) -> StubResponse
    private let note: @Sendable (StubHTTPServer.Event) -> Void
    private var head: HTTPRequestHead?
    private var body = ""

    init(handler: @escaping @Sendable (StubRequest) -> StubResponse, note: @escaping @Sendable (StubHTTPServer.Event) -> Void) {
        self.handler = handler
        self.note = note
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = ""
        case .body(let buffer):
            body += String(buffer: buffer)
        case .end:
            guard let head else { return }
            let request = StubRequest(
                method: head.method.rawValue, uri: head.uri,
                headers: head.headers.map { ($0.name, $0.value) }, body: body)
            note(.began(request))
            let response = handler(request)
            let bound = NIOLoopBound((context, self), eventLoop: context.eventLoop)
            let keepAlive = head.isKeepAlive
            let answer: @Sendable () -> Void = {
                let (context, handler) = bound.value
                handler.write(response, keepAlive: keepAlive, context: context)
            }
            if response.delay > 0 {
                context.eventLoop.scheduleTask(in: .milliseconds(Int64(response.delay * 1000))) { answer() }
            } else {
                answer()
            }
        }
    }

    private func write(_ response: StubResponse, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(response.body.utf8.count))
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
        note(.ended)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        if !keepAlive { context.close(promise: nil) }
    }
}
