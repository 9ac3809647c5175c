import Foundation
import NIOCore
import NIOPosix

/// An SMTP listener (RFC 5321) for mail an MX, a relay or a provider's forwarding delivers:
/// EHLO/HELO, MAIL FROM, RCPT TO (only addresses `accepts` knows), DATA (dot-stuffing undone,
/// bounded by `maxSize`), RSET, NOOP, QUIT. It relays nothing.
public struct SMTPServer: Sendable {
    public var host: String
    public var port: Int
    public var hostname: String
    public var maxSize: Int
    /// Sessions served at once; senders beyond it wait to be accepted.
    public var maxSessions: Int
    /// Whether mail for this address is taken.
    public var accepts: @Sendable (String) async -> Bool
    /// Takes in a message; a thrown ``MailError/transient(_:)`` asks the sender to try later.
    public var deliver: @Sendable (_ sender: String, _ recipients: [String], _ message: [UInt8]) async throws -> Void

    public init(host: String, port: Int, hostname: String = "parley.localhost", maxSize: Int = 25 << 20, maxSessions: Int = 100,
                accepts: @escaping @Sendable (String) async -> Bool,
                deliver: @escaping @Sendable (_ sender: String, _ recipients: [String], _ message: [UInt8]) async throws -> Void) {
        self.host = host
        self.port = port
        self.hostname = hostname
        self.maxSize = maxSize
        self.maxSessions = max(1, maxSessions)
        self.accepts = accepts
        self.deliver = deliver
    }

    static let maxRecipients = 100
    static let sessionTimeout: Duration = .seconds(600)

    /// Listens until cancelled; `onListening` gets the bound port.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        onListening(server.channel.localAddress?.port ?? port)
        try await withTaskCancellationHandler {
            try await server.executeThenClose { connections in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var open = 0
                    for try await connection in connections {
                        // At the cap the next session waits for one to end. The channel stops
                        // accepting once a few accepted connections wait unread; the rest wait in
                        // the listen backlog, holding none of this process's descriptors.
                        if open >= maxSessions, try await group.next() != nil { open -= 1 }
                        group.addTask { await serve(connection) }
                        open += 1
                    }
                }
            }
        } onCancel: {
            server.channel.close(promise: nil)
        }
    }

    private func serve(_ channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let raw = channel.channel
        let timer = Task {
            try await Task.sleep(for: Self.sessionTimeout)
            raw.close(promise: nil)
        }
        defer { timer.cancel() }
        try? await channel.executeThenClose { inbound, outbound in
            let connection = MailConnection(endpoint: MailEndpoint(host: host, port: port, security: .none), channel: channel,
                                            inbound: inbound, outbound: outbound)
            var session = Session()
            try await connection.write("220 \(hostname) Parley ESMTP\r\n")
            while true {
                let line = try await connection.readLine()
                guard let reply = try await session.handle(line, server: self, connection: connection) else { return }
                try await connection.write(reply + "\r\n")
                if reply.hasPrefix("221") || session.errors > 20 { return }
            }
        }
    }

    /// One client's state between commands.
    struct Session {
        var sender: String?
        var recipients: [String] = []
        var errors = 0

        /// The reply to one command line (nil: close without a reply).
        mutating func handle(_ line: String, server: SMTPServer, connection: MailConnection) async throws -> String? {
            let verb = line.split(separator: " ", maxSplits: 1).first.map { $0.uppercased() } ?? ""
            let argument = line.dropFirst(verb.count).trimmingCharacters(in: .whitespaces)
            switch verb {
            case "EHLO":
                return "250-\(server.hostname)\r\n250-SIZE \(server.maxSize)\r\n250-8BITMIME\r\n250 PIPELINING"
            case "HELO":
                return "250 \(server.hostname)"
            case "MAIL":
                guard argument.uppercased().hasPrefix("FROM:"), let address = SMTPServer.path(argument.dropFirst(5)) else { return fail("501 5.5.4 MAIL FROM:<address> expected") }
                if let size = argument.uppercased().split(separator: " ").first(where: { $0.hasPrefix("SIZE=") }).flatMap({ Int($0.dropFirst(5)) }),
                   size > server.maxSize {
                    return fail("552 5.3.4 message size exceeds \(server.maxSize) bytes")
                }
                sender = address
                recipients = []
                return "250 2.1.0 OK"
            case "RCPT":
                guard sender != nil else { return fail("503 5.5.1 MAIL first") }
                guard argument.uppercased().hasPrefix("TO:"), let address = SMTPServer.path(argument.dropFirst(3)), !address.isEmpty else {
                    return fail("501 5.5.4 RCPT TO:<address> expected")
                }
                guard recipients.count < SMTPServer.maxRecipients else { return fail("452 4.5.3 too many recipients") }
                guard await server.accepts(address.lowercased()) else { return fail("550 5.1.1 no mailbox here for \(address.prefix(100))") }
                recipients.append(address.lowercased())
                return "250 2.1.5 OK"
            case "DATA":
                guard let from = sender, !recipients.isEmpty else { return fail("503 5.5.1 RCPT first") }
                try await connection.write("354 end with <CRLF>.<CRLF>\r\n")
                let (message, tooLarge) = try await SMTPServer.readData(connection, limit: server.maxSize)
                defer { sender = nil; recipients = [] }
                if tooLarge { return "552 5.3.4 message size exceeds \(server.maxSize) bytes" }
                do {
                    try await server.deliver(from, recipients, message)
                    return "250 2.0.0 accepted"
                } catch MailError.transient(let why) {
                    return "451 4.3.0 \(why.prefix(200))"
                } catch {
                    return "554 5.3.0 \(String(describing: error).prefix(200))"
                }
            case "RSET":
                sender = nil
                recipients = []
                return "250 2.0.0 OK"
            case "NOOP":
                return "250 2.0.0 OK"
            case "VRFY":
                return "252 2.1.5 cannot verify"
            case "QUIT":
                return "221 2.0.0 bye"
            default:
                return fail("500 5.5.2 command not recognised")
            }
        }

        mutating func fail(_ reply: String) -> String {
            errors += 1
            return reply
        }
    }

    /// `<address>` (with optional parameters after it) → address; `<>` → "" (the null sender).
    static func path(_ text: Substring) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("<"), let close = trimmed.firstIndex(of: ">") else {
            let bare = trimmed.split(separator: " ").first.map(String.init) ?? ""
            return bare.contains("@") ? bare : nil
        }
        return String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
    }

    /// The message after DATA, up to the lone "." line; lines are kept with CRLF, a doubled
    /// leading dot undone. Past `limit` the rest is read and dropped.
    static func readData(_ connection: MailConnection, limit: Int) async throws -> ([UInt8], Bool) {
        var message: [UInt8] = []
        var tooLarge = false
        while true {
            // A line may be as long as the whole message (a 1 MB header is kept, then cut by the parser).
            let line = try await connection.readLineBytes(maxLength: limit + 2)
            if line == [UInt8(ascii: ".")] { return (message, tooLarge) }
            let bytes = (line.first == UInt8(ascii: ".") ? Array(line.dropFirst()) : line) + [13, 10]
            if message.count + bytes.count > limit {
                tooLarge = true
                message = []
            }
            if !tooLarge { message += bytes }
        }
    }
}
