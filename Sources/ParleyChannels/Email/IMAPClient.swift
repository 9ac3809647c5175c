import Foundation

/// Reads a mailbox over IMAP4rev1: LOGIN, SELECT (UIDVALIDITY), UID SEARCH for what is new,
/// UID FETCH BODY.PEEK[] (so nothing is marked read), LOGOUT.
public struct IMAPClient: Sendable {
    public var endpoint: MailEndpoint
    public var username: String
    public var password: String
    public var folder: String

    public init(endpoint: MailEndpoint, username: String, password: String, folder: String = "INBOX") {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.folder = folder
    }

    public struct Mailbox: Sendable, Equatable {
        public var uidValidity: Int64
    }

    public struct Fetched: Sendable {
        public var uid: Int64
        /// The whole message, or only its header when it is larger than the limit.
        public var raw: [UInt8]
        public var size: Int
        public var truncated: Bool
    }

    /// One server response line with the literals (`{n}` byte runs) it carried.
    struct Line {
        var text: String
        var literals: [[UInt8]]
    }

    /// Logs in and selects the folder: checks the settings.
    public func check() async throws {
        _ = try await MailConnection.run(endpoint) { connection in
            var session = Session(connection: connection)
            let mailbox = try await open(&session)
            _ = try? await session.command("LOGOUT")
            return mailbox
        }
    }

    /// The messages after `lastUID` (at most `limit`, oldest first). When the folder's
    /// UIDVALIDITY is not `knownValidity`, UIDs were renumbered: everything is new again.
    public func fetchNew(after lastUID: Int64, knownValidity: Int64?, limit: Int = 50, maxSize: Int = 25 << 20) async throws -> (Mailbox, [Fetched]) {
        try await MailConnection.run(endpoint) { connection in
            var session = Session(connection: connection)
            let mailbox = try await open(&session)
            let after = mailbox.uidValidity == knownValidity ? lastUID : 0
            let found = try await session.command("UID SEARCH UID \(after + 1):*")
            // "n:*" always matches the highest UID, even below n.
            let uids = found.lines.filter { $0.text.uppercased().hasPrefix("* SEARCH") }
                .flatMap { $0.text.split(separator: " ").dropFirst(2).compactMap { Int64($0) } }
                .filter { $0 > after }.sorted().prefix(limit)
            var fetched: [Fetched] = []
            for uid in uids {
                let sized = try await session.command("UID FETCH \(uid) (UID RFC822.SIZE)")
                let size = Int(sized.lines.compactMap { Self.number(after: "RFC822.SIZE", in: $0.text) }.first ?? 0)
                let part = size > maxSize ? "BODY.PEEK[HEADER]" : "BODY.PEEK[]"
                let body = try await session.command("UID FETCH \(uid) (UID \(part))")
                guard let line = body.lines.first(where: { Self.number(after: "UID", in: $0.text) == uid && !$0.literals.isEmpty }) else { continue }
                fetched.append(Fetched(uid: uid, raw: line.literals[0], size: size, truncated: size > maxSize))
            }
            _ = try? await session.command("LOGOUT")
            return (mailbox, fetched)
        }
    }

    private func open(_ session: inout Session) async throws -> Mailbox {
        let greeting = try await session.readLine()
        guard greeting.text.uppercased().hasPrefix("* OK") || greeting.text.uppercased().hasPrefix("* PREAUTH") else {
            throw MailError.permanent("not an IMAP greeting: \(greeting.text.prefix(100))")
        }
        if endpoint.security == .starttls {
            try await session.command("STARTTLS")
            try await session.connection.startTLS()
        }
        do {
            try await session.command("LOGIN \(Self.quoted(username)) \(Self.quoted(password))", redacted: "LOGIN")
        } catch MailError.permanent(let why) {
            throw MailError.authentication("login refused: \(why)")
        }
        let selected = try await session.command("SELECT \(Self.quoted(folder))")
        guard let validity = selected.lines.compactMap({ Self.number(after: "UIDVALIDITY", in: $0.text) }).first else {
            throw MailError.permanent("the server gave no UIDVALIDITY for \(folder)")
        }
        return Mailbox(uidValidity: validity)
    }

    /// A quoted string with `\` and `"` escaped; CR and LF cannot be sent this way.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: "") + "\""
    }

    /// The number after `key` in a response (`UIDVALIDITY 3`, `UID 17`, `RFC822.SIZE 2048`).
    static func number(after key: String, in text: String) -> Int64? {
        let words = text.uppercased().replacingOccurrences(of: "[", with: " ").replacingOccurrences(of: "]", with: " ")
            .replacingOccurrences(of: "(", with: " ").replacingOccurrences(of: ")", with: " ").split(separator: " ")
        guard let index = words.firstIndex(of: Substring(key.uppercased())), index + 1 < words.count else { return nil }
        return Int64(words[index + 1])
    }

    /// Tagged commands and their responses.
    struct Session {
        let connection: MailConnection
        var counter = 0

        struct Response {
            var lines: [Line]
            var status: String
        }

        @discardableResult
        mutating func command(_ text: String, redacted: String? = nil) async throws -> Response {
            counter += 1
            let tag = "p\(counter)"
            try await connection.write("\(tag) \(text)\r\n")
            var lines: [Line] = []
            while true {
                let line = try await readLine()
                if line.text.hasPrefix(tag + " ") {
                    let status = line.text.dropFirst(tag.count + 1)
                    guard status.uppercased().hasPrefix("OK") else {
                        let what = redacted ?? text.split(separator: " ").prefix(2).joined(separator: " ")
                        let why = "\(what): \(status.prefix(300))"
                        throw MailError.permanent(why)
                    }
                    return Response(lines: lines, status: String(status))
                }
                if line.text.hasPrefix("+") { throw MailError.permanent("unexpected continuation request after \(text.prefix(20))") }
                lines.append(line)
                if lines.count > 100_000 { throw MailError.permanent("the response does not end") }
            }
        }

        /// One response line, its literals read in (`{n}` at a line's end means n bytes follow).
        mutating func readLine() async throws -> Line {
            var line = Line(text: try await connection.readLine(), literals: [])
            while line.text.hasSuffix("}"), let open = line.text.lastIndex(of: "{"),
                  let count = Int(line.text[line.text.index(after: open)...].dropLast().replacingOccurrences(of: "+", with: "")) {
                guard count <= 64 << 20 else { throw MailError.permanent("a literal of \(count) bytes is too large") }
                line.literals.append(try await connection.readBytes(count))
                line.text += " " + (try await connection.readLine())
            }
            return line
        }
    }
}
