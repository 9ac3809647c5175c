import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import ParleyChannels
import ParleyCore
import Synchronization

/// A local stand-in for the providers' APIs, over real HTTP on loopback. It checks credentials
/// the way each provider does, applies the provider's own window rules with its real error
/// codes, can be told to fail (5xx, 429 with Retry-After, hang), records every request, and
/// builds correctly signed webhooks for Parley. Used by the tests and `parley demo`.
public final class ProviderSimulator: Sendable {
    /// One request the simulator received.
    public struct Recorded: Sendable {
        public let provider: Provider
        public let method: String
        public let path: String
        public let query: [String: String]
        public let headers: [String: String]
        public let body: [UInt8]

        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    public enum Provider: String, Sendable {
        case telegram, whatsapp, messenger, viber, wechat, line, twilio
    }

    /// A failure to inject into the next matching request.
    public enum Fault: Sendable {
        case status(Int, retryAfter: Int?)
        case hang(seconds: Double)
        /// This status and body as they are (a provider's error text, or a malformed success).
        case reply(status: Int, body: String)
    }

    struct State {
        var recorded: [Recorded] = []
        var faults: [Provider: [Fault]] = [:]
        var telegramTokens: Set<String> = []
        var telegramWebhooks: [String: (url: String, secret: String)] = [:]
        var blockedChats: Set<String> = []
        var metaTokens: [String: Provider] = [:]
        /// Last inbound message per provider and recipient, for the provider-side windows.
        var lastInbound: [String: Date] = [:]
        var templates: [String: [(name: String, language: String, status: String, category: String, body: String)]] = [:]
        var nextId = 1000
        var lineTokens: Set<String> = []
        /// Accepted X-Line-Retry-Key values per token, with the request id and when, for LINE's 24 h deduplication.
        var lineRetryKeys: [String: (requestId: String, at: Date)] = [:]
        var lineDeliveries: [LineDelivery] = []
        /// Account SID → auth token.
        var twilioAccounts: [String: String] = [:]
        var twilioUnsubscribed: Set<String> = []
        var twilioMessages: [TwilioMessage] = []
        /// Viber: accepted auth tokens, the webhook URL each registered, chatbot-initiated sends per "token|UTC month",
        /// and `status` codes to answer the next sends with.
        var viberTokens: Set<String> = []
        var viberWebhooks: [String: String] = [:]
        var viberMonthlyUsed: [String: Int] = [:]
        var viberForcedStatuses: [Int] = []
        /// WeChat: app id → secret, issued access tokens, sends per openid since the window opened at `window`,
        /// and `errcode`s to answer the next sends with.
        var wechatApps: [String: String] = [:]
        var wechatTokens: [String: (appId: String, expiresAt: Date)] = [:]
        var wechatSent: [String: (window: Date, count: Int)] = [:]
        var wechatForcedErrors: [Int] = []
        /// Users the profile APIs know, by "provider:id".
        var profiles: [String: SimulatedProfile] = [:]
        /// Files the providers serve, by media id, file id or message id.
        var media: [String: HostedFile] = [:]
    }

    let state = Mutex(State())
    let now: @Sendable () -> Date
    let port = Mutex<Int?>(nil)
    let task = Mutex<Task<Void, any Error>?>(nil)

    public init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    // MARK: Lifecycle

    /// Starts listening on 127.0.0.1 (port 0 picks a free one) and returns the base URL.
    @discardableResult
    public func start(port requested: Int = 0) async throws -> String {
        let router = Router()
        router.on("**", method: .get) { request, context in try await self.handle(request, context: context) }
        router.on("**", method: .post) { request, context in try await self.handle(request, context: context) }
        var logger = Logger(label: "parley-simulator")
        // Stopping the simulator cancels its server, which the server reports as errors.
        logger.logLevel = .critical
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: requested), serverName: "ParleySimulator"),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0); continuation.finish() },
            logger: logger
        )
        let running = Task { try await app.runService(gracefulShutdownSignals: []) }
        task.withLock { $0 = running }
        var iterator = stream.makeAsyncIterator()
        guard let bound = await iterator.next(), bound > 0 else { throw ChannelError.connectFailed("simulator did not start") }
        port.withLock { $0 = bound }
        return "http://127.0.0.1:\(bound)"
    }

    public func stop() async {
        let running = task.withLock { $0 }
        running?.cancel()
        _ = await running?.result
    }

    public var baseURL: String { "http://127.0.0.1:\(port.withLock { $0 } ?? 0)" }

    // MARK: Control

    public func acceptTelegramToken(_ token: String) { state.withLock { _ = $0.telegramTokens.insert(token) } }
    public func acceptMetaToken(_ token: String, for provider: Provider) { state.withLock { $0.metaTokens[token] = provider } }
    public func blockTelegramChat(_ chatId: String) { state.withLock { _ = $0.blockedChats.insert(chatId) } }

    public func addWhatsAppTemplate(waba: String, name: String, language: String, status: String = "APPROVED", category: String = "UTILITY", body: String) {
        state.withLock { $0.templates[waba, default: []].append((name, language, status, category, body)) }
    }

    /// The next `count` requests to `provider` fail this way.
    public func inject(_ fault: Fault, into provider: Provider, count: Int = 1) {
        state.withLock { $0.faults[provider, default: []] += Array(repeating: fault, count: count) }
    }

    public func requests(_ provider: Provider? = nil) -> [Recorded] {
        state.withLock { state in state.recorded.filter { provider == nil || $0.provider == provider } }
    }

    /// Tells the provider side that a contact wrote at `date` (opening its own window).
    public func contactWrote(_ provider: Provider, recipient: String, at date: Date) {
        state.withLock { $0.lastInbound["\(provider.rawValue):\(recipient)"] = date }
    }

    public func telegramWebhook(token: String) -> (url: String, secret: String)? {
        state.withLock { $0.telegramWebhooks[token] }
    }

    func nextId() -> Int {
        state.withLock { state in
            state.nextId += 1
            return state.nextId
        }
    }

    func withinWindow(_ provider: Provider, recipient: String, length: TimeInterval) -> Bool {
        guard let last = state.withLock({ $0.lastInbound["\(provider.rawValue):\(recipient)"] }) else { return false }
        return now().timeIntervalSince(last) < length
    }

    // MARK: Dispatch

    func handle(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let path = request.uri.path
        let body = Array(buffer: try await request.body.collect(upTo: 32 << 20))
        var query: [String: String] = [:]
        for (key, value) in request.uri.queryParameters { query[String(key)] = String(value) }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
        // The simulator's own control: a contact wrote outside the simulator's webhook builders
        // (a scripted webhook), so the provider side opens its window as the real one would.
        if path == "/simulator/contact-wrote", request.method == .post {
            guard let provider = query["provider"].flatMap(Provider.init(rawValue:)), let recipient = query["recipient"], !recipient.isEmpty else {
                return Self.json(400, ["error": "provider and recipient are required"])
            }
            contactWrote(provider, recipient: recipient, at: now())
            return Self.json(200, ["ok": true])
        }
        let provider: Provider
        if path.hasPrefix("/bot") || path.hasPrefix("/file/bot") {
            provider = .telegram
        } else if path.hasPrefix("/cdn/") {
            // Messenger's, Instagram's and Viber's CDN: files anyone with the URL may fetch.
            provider = .messenger
        } else if path.hasPrefix("/pa/") {
            provider = .viber
        } else if path.hasPrefix("/cgi-bin/") {
            provider = .wechat
        } else if path.hasPrefix("/v2/bot/") {
            provider = .line
        } else if path.hasPrefix("/2010-04-01/") {
            provider = .twilio
        } else if path.hasSuffix("/me/messages") || (request.method == .get && query["fields"] != nil && query["access_token"] != nil) {
            provider = .messenger
        } else {
            provider = .whatsapp
        }
        let recorded = Recorded(provider: provider, method: request.method.rawValue, path: path, query: query, headers: headers, body: body)
        let fault: Fault? = state.withLock { state in
            state.recorded.append(recorded)
            guard var queue = state.faults[provider], !queue.isEmpty else { return nil }
            let first = queue.removeFirst()
            state.faults[provider] = queue
            return first
        }
        switch fault {
        case .status(let status, let retryAfter)?:
            var headers: HTTPFields = [.contentType: "application/json"]
            if let retryAfter { headers[.retryAfter] = String(retryAfter) }
            let body = provider == .telegram && status == 429
                ? "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after \(retryAfter ?? 1)\",\"parameters\":{\"retry_after\":\(retryAfter ?? 1)}}"
                : "{\"error\":{\"message\":\"injected failure\",\"code\":\(status)}}"
            return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
        case .reply(let status, let body)?:
            return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        case .hang(let seconds)?:
            try await Task.sleep(for: .seconds(seconds))
        case nil:
            break
        }
        switch provider {
        case .telegram: return path.hasPrefix("/file/bot") ? telegramDownload(recorded) : telegram(recorded)
        case .messenger: return path.hasPrefix("/cdn/") ? cdn(recorded) : messenger(recorded)
        case .whatsapp: return whatsapp(recorded)
        case .viber: return viber(recorded)
        case .wechat: return wechat(recorded)
        case .line: return line(recorded)
        case .twilio: return twilio(recorded)
        }
    }

    static func json(_ status: Int, _ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data("{}".utf8)
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Webhook delivery

    /// POSTs a webhook to Parley and returns the HTTP status.
    public func post(to url: String, body: [UInt8], headers: [(String, String)]) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        _ = try await response.body.collect(upTo: 1 << 20)
        return Int(response.status.code)
    }
}
