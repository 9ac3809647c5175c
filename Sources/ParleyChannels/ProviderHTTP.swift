import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The one outbound HTTP client, with the timeout and error handling every adapter shares.
public struct ProviderHTTP: Sendable {
    public struct Response: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: [UInt8]

        public var json: [String: Any]? {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
        }

        /// Seconds from a `Retry-After` header, if any.
        public var retryAfter: TimeInterval? { headers["retry-after"].flatMap(TimeInterval.init) }
    }

    public enum Failure: Error, Sendable, CustomStringConvertible {
        case timeout
        case connection(String)
        /// The target is not one this server may connect to (``NetworkTargetPolicy``).
        case refused(NetworkTargetPolicy.Refusal)

        public var description: String {
            switch self {
            case .timeout: return "timeout"
            case .connection(let detail): return "connection: \(detail)"
            case .refused(let why): return why.description
            }
        }
    }

    /// The client for calls to providers and workflow endpoints. It follows no redirect:
    /// `targets` checks the address a request goes to, and a redirect the client followed by
    /// itself would reach one never checked (a public address answering `302` with
    /// `Location: http://127.0.0.1/…`). It opens no tracing span: no tracer is installed, and
    /// the span's attributes parsed each request's URL once more.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.redirectConfiguration = .disallow
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    public let client: HTTPClient
    public let timeout: TimeAmount
    /// Checked before every request, so that a host whose name now resolves to a private
    /// address is refused even if it was public when the channel was saved.
    public let targets: NetworkTargetPolicy

    public init(client: HTTPClient, timeout: TimeAmount = .seconds(10), targets: NetworkTargetPolicy) {
        self.client = client
        self.timeout = timeout
        self.targets = targets
    }

    public func send(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws(Failure) -> Response {
        do {
            try await targets.check(url: url)
        } catch .unresolvable(let host) {
            // DNS may recover: the same as a connection that failed.
            throw .connection("\(host) could not be resolved")
        } catch {
            throw .refused(error)
        }
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: timeout)
            let collected = try await response.body.collect(upTo: 4 << 20)
            var headerMap: [String: String] = [:]
            for header in response.headers { headerMap[header.name.lowercased()] = header.value }
            return Response(status: Int(response.status.code), headers: headerMap, body: Array(buffer: collected))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw .timeout
        } catch {
            throw .connection(String(describing: error))
        }
    }

    public func json(_ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], object: Any) async throws(Failure) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: object)).map(Array.init) ?? []
        return try await send(method, url, headers: headers + [("Content-Type", "application/json")], body: body)
    }

    /// A value for a URL path segment or query: everything but RFC 3986's unreserved characters
    /// escaped (`.alphanumerics` would let other scripts through and escape "-").
    public static func component(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    /// The common reading of transient failures: timeouts, connection errors, 5xx and 429 are retried.
    public static func transient(_ failure: Failure) -> ProviderResult {
        switch failure {
        case .timeout: return .retry(after: nil, detail: "timeout")
        case .connection(let detail): return .retry(after: nil, detail: "connection: \(detail)")
        case .refused(let why): return .failed(reason: .misconfigured, code: "target_refused", text: why.description)
        }
    }

    public static func transient(_ response: Response) -> ProviderResult? {
        if response.status == 429 { return .retry(after: response.retryAfter, detail: "HTTP 429") }
        if response.status >= 500 { return .retry(after: response.retryAfter, detail: "HTTP \(response.status)") }
        return nil
    }
}
