import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which hosts Parley may open outbound connections to on a user's behalf (a channel's
/// `apiBaseUrl`, attachment downloads, workflow HTTP steps). A workspace admin must not be able
/// to make the server reach its own loopback, the private network it runs in, or a cloud
/// metadata address, so such targets are refused unless the server was started with
/// `--allow-private-targets` (`PARLEY_ALLOW_PRIVATE_TARGETS=1`; the demo and the tests, whose
/// providers are simulated on loopback, set it).
///
/// Host names are resolved and every address they resolve to must be public: a name that
/// points at 127.0.0.1 is as private as the address itself.
public struct NetworkTargetPolicy: Sendable, Equatable {
    public let allowsPrivateTargets: Bool

    public init(allowsPrivateTargets: Bool) {
        self.allowsPrivateTargets = allowsPrivateTargets
    }

    /// The default of a production server.
    public static let publicOnly = NetworkTargetPolicy(allowsPrivateTargets: false)
    /// Any target (`--allow-private-targets`).
    public static let allowingPrivate = NetworkTargetPolicy(allowsPrivateTargets: true)

    public enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// Not an http(s) URL with a host.
        case invalidURL
        /// The host is, or resolves to, an address of this kind.
        case privateAddress(host: String, kind: String)
        /// The host name did not resolve (nothing to check, so nothing to connect to).
        case unresolvable(host: String)

        public var description: String {
            switch self {
            case .invalidURL: return "the URL must be http or https with a host"
            case .privateAddress(let host, let kind):
                return "\(host) is a \(kind) address; the server only connects to public addresses unless started with --allow-private-targets"
            case .unresolvable(let host): return "\(host) could not be resolved"
            }
        }
    }

    /// Checks an http(s) URL's host. Resolves names on NIO's blocking pool, never on the
    /// cooperative threads.
    public func check(url: String) async throws(Refusal) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              ["http", "https"].contains(scheme), let host = components.host, !host.isEmpty
        else { throw .invalidURL }
        try await check(host: host)
    }

    /// Checks a host name or address literal (brackets around IPv6 allowed).
    public func check(host rawHost: String) async throws(Refusal) {
        if allowsPrivateTargets { return }
        let host = rawHost.hasPrefix("[") && rawHost.hasSuffix("]") ? String(rawHost.dropFirst().dropLast()) : rawHost
        if let kind = Self.literalKind(host) {
            if let kind { throw .privateAddress(host: host, kind: kind) }
            return
        }
        let addresses: [IPAddressBytes]
        do {
            addresses = try await NIOThreadPool.singleton.runIfActive { Self.resolve(host) }
        } catch {
            throw .unresolvable(host: host)
        }
        guard !addresses.isEmpty else { throw .unresolvable(host: host) }
        for address in addresses {
            if let kind = address.privateKind { throw .privateAddress(host: host, kind: kind) }
        }
    }

    /// For an address literal: `.some(nil)` public, `.some(kind)` private; nil when `host` is a name.
    static func literalKind(_ host: String) -> String?? {
        guard let address = IPAddressBytes(literal: host) else { return nil }
        return .some(address.privateKind)
    }

    /// The addresses a name resolves to (empty when it does not).
    static func resolve(_ host: String) -> [IPAddressBytes] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var found: [IPAddressBytes] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let sockaddr = entry.pointee.ai_addr {
                if entry.pointee.ai_family == AF_INET {
                    let v4 = sockaddr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    found.append(IPAddressBytes(v4: withUnsafeBytes(of: v4) { Array($0) }))
                } else if entry.pointee.ai_family == AF_INET6 {
                    let v6 = sockaddr.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    found.append(IPAddressBytes(v6: withUnsafeBytes(of: v6) { Array($0) }))
                }
            }
            cursor = entry.pointee.ai_next
        }
        return found
    }
}

/// An IPv4 (4 bytes) or IPv6 (16 bytes) address, classified by the ranges that are not the
/// public internet.
struct IPAddressBytes: Sendable, Equatable {
    let bytes: [UInt8]

    init(v4: [UInt8]) { bytes = v4 }
    init(v6: [UInt8]) { bytes = v6 }

    init?(literal: String) {
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, literal, &v4) == 1 {
            bytes = withUnsafeBytes(of: v4) { Array($0) }
        } else if inet_pton(AF_INET6, literal, &v6) == 1 {
            bytes = withUnsafeBytes(of: v6) { Array($0) }
        } else {
            return nil
        }
    }

    /// nil for a public address, otherwise what kind of address it is.
    var privateKind: String? {
        bytes.count == 4 ? Self.v4Kind(bytes) : Self.v6Kind(bytes)
    }

    static func v4Kind(_ b: [UInt8]) -> String? {
        switch (b[0], b[1]) {
        case (0, _): return "unspecified"
        case (127, _): return "loopback"
        case (10, _), (172, 16...31), (192, 168): return "private"
        case (100, 64...127): return "shared (CGNAT)"
        case (169, 254): return "link-local"
        case (224...239, _): return "multicast"
        case (240...255, _): return "reserved"
        default: return nil
        }
    }

    static func v6Kind(_ b: [UInt8]) -> String? {
        let prefixZero = b[0..<10].allSatisfy { $0 == 0 }
        if prefixZero && b[10] == 0xff && b[11] == 0xff { return v4Kind(Array(b[12..<16])) } // IPv4-mapped
        if b[0..<12].allSatisfy({ $0 == 0 }) {
            if b[12..<15].allSatisfy({ $0 == 0 }) && (b[15] == 0 || b[15] == 1) { return b[15] == 0 ? "unspecified" : "loopback" }
            return v4Kind(Array(b[12..<16])) // IPv4-compatible
        }
        // NAT64 (64:ff9b::/96) reaches the embedded IPv4 address.
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4..<12].allSatisfy({ $0 == 0 }) {
            return v4Kind(Array(b[12..<16]))
        }
        if b[0] & 0xfe == 0xfc { return "unique-local" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return "link-local" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return "site-local" }
        if b[0] == 0xff { return "multicast" }
        return nil
    }
}
