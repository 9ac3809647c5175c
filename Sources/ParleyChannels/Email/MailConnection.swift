import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// How a mail server connection is secured.
public enum MailSecurity: String, Sendable, CaseIterable {
    /// TLS from the first byte (SMTPS 465, IMAPS 993).
    case tls
    /// Plain, upgraded with STARTTLS before anything secret is sent (submission 587, IMAP 143).
    case starttls
    /// No TLS at all: accepted for loopback hosts only.
    case none
}

/// Where a mail server is and how to reach it.
public struct MailEndpoint: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var security: MailSecurity
    /// PEM certificates to trust besides the system's (a self-hosted server's own CA).
    public var trustedCertificates: String?
    public var timeout: Duration

    public init(host: String, port: Int, security: MailSecurity, trustedCertificates: String? = nil, timeout: Duration = .seconds(30)) {
        self.host = host
        self.port = port
        self.security = security
        self.trustedCertificates = trustedCertificates
        self.timeout = timeout
    }

    public var isLoopback: Bool { ["localhost", "127.0.0.1", "::1"].contains(host.lowercased()) || host.hasPrefix("127.") }
}

/// Why talking to a mail server failed.
public enum MailError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Worth trying again later: a 4xx reply, a timeout, a dropped connection.
    case transient(String)
    /// The server refused for good: a 5xx reply.
    case permanent(String)
    /// The login was refused.
    case authentication(String)
    /// The settings cannot work (no TLS to a remote host, a bad certificate file).
    case configuration(String)

    public var description: String {
        switch self {
        case .transient(let why), .permanent(let why), .authentication(let why), .configuration(let why): return why
        }
    }
}

/// A connection for line protocols (SMTP, IMAP): CRLF lines and counted byte runs in, bytes
/// out, and a switch to TLS in the middle (STARTTLS). Used by one task at a time.
final class MailConnection {
    let endpoint: MailEndpoint
    private let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
    private var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private var buffer = ByteBuffer()
    /// A server that sends an endless line is cut off.
    static let maxLine = 64 * 1024

    init(endpoint: MailEndpoint, channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>,
                 inbound: NIOAsyncChannelInboundStream<ByteBuffer>, outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>) {
        self.endpoint = endpoint
        self.channel = channel
        self.inbound = inbound.makeAsyncIterator()
        self.outbound = outbound
    }

    /// Connects, runs `body`, and closes; the whole conversation is bounded by the endpoint's timeout.
    static func run<T: Sendable>(_ endpoint: MailEndpoint, _ body: @escaping @Sendable (MailConnection) async throws -> T) async throws -> T {
        if endpoint.security == .none && !endpoint.isLoopback {
            throw MailError.configuration("a mail server other than this machine needs TLS or STARTTLS")
        }
        let tls = endpoint.security == .tls ? try tlsContext(endpoint) : nil
        let serverName = Self.serverName(endpoint)
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.seconds(10))
                .connect(host: endpoint.host, port: endpoint.port) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                        return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw MailError.transient("could not connect to \(endpoint.host):\(endpoint.port): \(error)")
        }
        let raw = channel.channel
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await body(MailConnection(endpoint: endpoint, channel: channel, inbound: inbound, outbound: outbound))
                }
            }
            group.addTask {
                try await Task.sleep(for: endpoint.timeout)
                raw.close(promise: nil)
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
                throw MailError.transient("\(endpoint.host):\(endpoint.port) did not answer within \(endpoint.timeout)")
            }
            throw MailError.transient("the connection to \(endpoint.host) ended")
        }
    }

    static func tlsContext(_ endpoint: MailEndpoint) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let pem = endpoint.trustedCertificates, !pem.isEmpty {
            do {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMBytes(Array(pem.utf8)))]
            } catch {
                throw MailError.configuration("the trusted certificate is not PEM: \(error)")
            }
        }
        return try NIOSSLContext(configuration: configuration)
    }

    /// The name to check the certificate against (SNI cannot carry an IP address).
    static func serverName(_ endpoint: MailEndpoint) -> String? {
        endpoint.host.first?.isNumber == true || endpoint.host.contains(":") ? nil : endpoint.host
    }

    /// Switches the connection to TLS (after the server agreed to STARTTLS).
    func startTLS() async throws {
        guard buffer.readableBytes == 0 else { throw MailError.permanent("the server sent data before the TLS handshake") }
        let context = try Self.tlsContext(endpoint)
        let name = Self.serverName(endpoint)
        let raw = channel.channel
        try await raw.eventLoop.submit {
            try raw.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: name), position: .first)
        }.get()
    }

    func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    func write(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next line, without its CRLF.
    func readLine() async throws -> String {
        String(decoding: try await readLineBytes(), as: UTF8.self)
    }

    /// The next line's bytes as sent (mail bodies may be in any charset), without CRLF or LF.
    func readLineBytes(maxLength: Int = maxLine) async throws -> [UInt8] {
        while true {
            if let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                let length = newline - buffer.readerIndex
                var bytes = buffer.readBytes(length: length + 1) ?? []
                bytes.removeLast()
                if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
                return bytes
            }
            guard buffer.readableBytes < maxLength else { throw MailError.permanent("a line longer than \(maxLength) bytes") }
            try await fill()
        }
    }

    /// Exactly `count` bytes (an IMAP literal).
    func readBytes(_ count: Int) async throws -> [UInt8] {
        while buffer.readableBytes < count { try await fill() }
        return buffer.readBytes(length: count) ?? []
    }

    private func fill() async throws {
        guard var more = try await inbound.next() else { throw MailError.transient("the server closed the connection") }
        buffer.discardReadBytes()
        buffer.writeBuffer(&more)
    }
}
