import Foundation

/// Sends mail through a submission server: EHLO, STARTTLS, AUTH PLAIN or LOGIN, MAIL FROM,
/// RCPT TO, DATA with dot-stuffing, QUIT. 4xx replies are ``MailError/transient(_:)``, 5xx
/// ``MailError/permanent(_:)``, a refused login ``MailError/authentication(_:)``.
public struct SMTPClient: Sendable {
    public var endpoint: MailEndpoint
    public var username: String
    public var password: String
    /// The name given in EHLO.
    public var clientName: String

    public init(endpoint: MailEndpoint, username: String, password: String, clientName: String = "parley.localhost") {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.clientName = clientName
    }

    struct Reply {
        let code: Int
        let lines: [String]
        var text: String { "\(code) " + lines.joined(separator: " ") }
    }

    /// Logs in and quits: checks the settings.
    public func check() async throws {
        try await MailConnection.run(endpoint) { connection in
            try await session(connection) { _ in }
        }
    }

    /// Delivers `message` (a whole RFC 5322 message) from `sender` to `recipients`.
    public func send(_ message: [UInt8], from sender: String, to recipients: [String]) async throws {
        try await MailConnection.run(endpoint) { connection in
            try await session(connection) { connection in
                try await command(connection, "MAIL FROM:<\(sender)>", expect: 250)
                for recipient in recipients {
                    let reply = try await command(connection, "RCPT TO:<\(recipient)>")
                    guard reply.code == 250 || reply.code == 251 else { throw Self.failure(reply) }
                }
                try await command(connection, "DATA", expect: 354)
                try await connection.write(Self.dotStuffed(message) + Array("\r\n.\r\n".utf8))
                let accepted = try await Self.reply(connection)
                guard accepted.code == 250 else { throw Self.failure(accepted) }
            }
        }
    }

    /// Greeting, EHLO, STARTTLS, AUTH; then `body`; then QUIT.
    private func session(_ connection: MailConnection, _ body: (MailConnection) async throws -> Void) async throws {
        let greeting = try await Self.reply(connection)
        guard greeting.code == 220 else { throw Self.failure(greeting) }
        var capabilities = try await ehlo(connection)
        if endpoint.security == .starttls {
            guard capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                throw MailError.configuration("\(endpoint.host) does not offer STARTTLS")
            }
            try await command(connection, "STARTTLS", expect: 220)
            try await connection.startTLS()
            capabilities = try await ehlo(connection)
        }
        if !username.isEmpty {
            let mechanisms = capabilities.first { $0.uppercased().hasPrefix("AUTH") }?.uppercased().split(separator: " ").dropFirst().map(String.init) ?? []
            if mechanisms.contains("PLAIN") || !mechanisms.contains("LOGIN") {
                let token = Data(([0] + Array(username.utf8) + [0] + Array(password.utf8))).base64EncodedString()
                let reply = try await command(connection, "AUTH PLAIN \(token)", redacted: "AUTH PLAIN …")
                guard reply.code == 235 else { throw Self.authFailure(reply) }
            } else {
                guard try await command(connection, "AUTH LOGIN").code == 334 else { throw MailError.authentication("AUTH LOGIN was refused") }
                guard try await command(connection, Data(username.utf8).base64EncodedString(), redacted: "…").code == 334 else {
                    throw MailError.authentication("the username was refused")
                }
                let reply = try await command(connection, Data(password.utf8).base64EncodedString(), redacted: "…")
                guard reply.code == 235 else { throw Self.authFailure(reply) }
            }
        }
        try await body(connection)
        _ = try? await command(connection, "QUIT")
    }

    private func ehlo(_ connection: MailConnection) async throws -> [String] {
        let reply = try await command(connection, "EHLO \(clientName)", expect: 250)
        return Array(reply.lines.dropFirst())
    }

    @discardableResult
    private func command(_ connection: MailConnection, _ line: String, expect: Int? = nil, redacted: String? = nil) async throws -> Reply {
        try await connection.write(line + "\r\n")
        let reply = try await Self.reply(connection)
        if let expect, reply.code != expect {
            throw Self.failure(reply, command: redacted ?? line.split(separator: " ").first.map(String.init) ?? line)
        }
        return reply
    }

    /// One reply, over as many `code-text` lines as the server sends.
    static func reply(_ connection: MailConnection) async throws -> Reply {
        var lines: [String] = []
        while true {
            let line = try await connection.readLine()
            guard line.count >= 3, let code = Int(line.prefix(3)) else { throw MailError.permanent("not an SMTP reply: \(line.prefix(100))") }
            lines.append(String(line.dropFirst(4)))
            if line.count == 3 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { return Reply(code: code, lines: lines) }
            if lines.count > 100 { throw MailError.permanent("the server's reply does not end") }
        }
    }

    static func failure(_ reply: Reply, command: String? = nil) -> MailError {
        let text = (command.map { "\($0): " } ?? "") + reply.text
        return (400..<500).contains(reply.code) ? .transient(text) : .permanent(text)
    }

    static func authFailure(_ reply: Reply) -> MailError {
        (400..<500).contains(reply.code) ? .transient("login: " + reply.text) : .authentication("login refused: " + reply.text)
    }

    /// CRLF line ends, and a "." doubled at the start of any line, so no line ends DATA early.
    static func dotStuffed(_ message: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(message.count + 64)
        var lineStart = true
        var previous: UInt8 = 0
        for byte in message {
            if byte == UInt8(ascii: "\n") && previous != UInt8(ascii: "\r") { output.append(UInt8(ascii: "\r")) }
            if lineStart && byte == UInt8(ascii: ".") { output.append(UInt8(ascii: ".")) }
            output.append(byte)
            lineStart = byte == UInt8(ascii: "\n")
            previous = byte
        }
        if output.suffix(2) == [13, 10] { output.removeLast(2) }
        return output
    }
}
