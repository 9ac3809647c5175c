import Foundation
import Hummingbird
import Logging
import ParleyCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The proxies whose `X-Forwarded-For` and `X-Request-Id` Parley believes: addresses or CIDR
/// ranges (`127.0.0.1`, `10.0.0.0/8`, `::1`). A header from anyone else is ignored, since any
/// client can send one.
public struct TrustedProxies: Sendable, Equatable {
    struct Range: Sendable, Equatable {
        let bytes: [UInt8]
        let prefix: Int
    }

    let ranges: [Range]
    public static let none = TrustedProxies(ranges: [])

    init(ranges: [Range]) {
        self.ranges = ranges
    }

    /// Parses a comma-separated list; nil names the first entry that is not an address or range.
    public static func parse(_ list: String) -> Result<TrustedProxies, InvalidEntry> {
        var ranges: [Range] = []
        for raw in list.split(separator: ",") {
            let entry = raw.trimmingCharacters(in: .whitespaces)
            guard !entry.isEmpty else { continue }
            let parts = entry.split(separator: "/", maxSplits: 1).map(String.init)
            guard let bytes = addressBytes(parts[0]) else { return .failure(InvalidEntry(entry: entry)) }
            let bits = bytes.count * 8
            let prefix = parts.count == 2 ? Int(parts[1]) : bits
            guard let prefix, (0...bits).contains(prefix) else { return .failure(InvalidEntry(entry: entry)) }
            ranges.append(Range(bytes: bytes, prefix: prefix))
        }
        return .success(TrustedProxies(ranges: ranges))
    }

    public struct InvalidEntry: Error, Equatable, CustomStringConvertible {
        public let entry: String
        public var description: String { "'\(entry)' is not an IP address or CIDR range" }
    }

    public var isEmpty: Bool { ranges.isEmpty }

    /// Whether `address` (as NIO prints a peer: `127.0.0.1`, `::1`) is one of the proxies.
    public func contains(_ address: String) -> Bool {
        // Most installations trust no proxy: every request skips the address parsing.
        guard !ranges.isEmpty, let bytes = Self.addressBytes(address) else { return false }
        return ranges.contains { range in
            guard range.bytes.count == bytes.count else { return false }
            var left = range.prefix
            for (a, b) in zip(range.bytes, bytes) {
                guard left > 0 else { return true }
                let mask: UInt8 = left >= 8 ? 0xFF : ~(0xFF >> UInt8(left))
                if a & mask != b & mask { return false }
                left -= 8
            }
            return true
        }
    }

    static func addressBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) }
        }
        return nil
    }

    /// The client's address: the peer itself, or, when the peer is a trusted proxy, the last
    /// address in `X-Forwarded-For` that is not one of the proxies (earlier entries were
    /// written by the client and prove nothing).
    func clientAddress(peer: String, forwardedFor: [String]) -> String {
        guard contains(peer) else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where !hop.isEmpty {
            guard Self.addressBytes(hop) != nil else { return peer }
            if !contains(hop) { return hop }
        }
        return peer
    }
}

/// Works out who is calling and names the request: sets ``AppRequestContext/clientAddress``
/// from a trusted proxy's `X-Forwarded-For`, and gives every request an id (a trusted proxy's
/// `X-Request-Id`, or a new one) that its log lines carry and its response returns.
struct ForwardedClientMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let proxies: TrustedProxies

    static let requestIdHeader = HTTPFields.Element.Name("X-Request-Id")!
    static let forwardedForHeader = HTTPFields.Element.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let trusted = proxies.contains(context.peerAddress)
        context.clientAddress = proxies.clientAddress(peer: context.peerAddress, forwardedFor: request.headers[values: Self.forwardedForHeader])
        let requestId = trusted ? request.headers[Self.requestIdHeader].flatMap(Self.acceptable) ?? Self.newId() : Self.newId()
        context.logger[metadataKey: "request_id"] = .string(requestId)
        if trusted { context.logger[metadataKey: "client"] = .string(context.clientAddress) }
        do {
            var response = try await next(request, context)
            response.headers[Self.requestIdHeader] = requestId
            return response
        } catch var error as APIError {
            error.headers[Self.requestIdHeader] = requestId
            throw error
        }
    }

    /// A proxy's id is taken when it is short and plain (nginx's `$request_id` is 32 hex digits).
    static func acceptable(_ id: String) -> String? {
        guard (1...64).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) else {
            return nil
        }
        return id
    }

    /// 32 lowercase hex digits of 128 random bits. Formatted from the bytes: a UUID's text with
    /// its dashes removed went through Foundation's string replacement, 4% of the CPU of a
    /// webhook request.
    static func newId() -> String {
        var generator = SystemRandomNumberGenerator()
        let (high, low) = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeBytes(of: (high, low)) { $0.hexEncoded }
    }
}
