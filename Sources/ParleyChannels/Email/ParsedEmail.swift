import Foundation

/// An email address with its display name.
public struct EmailAddress: Sendable, Equatable {
    public var name: String?
    /// Lower-cased: addresses are matched case-insensitively in practice.
    public var address: String

    public init(name: String? = nil, address: String) {
        self.name = name
        self.address = address.lowercased()
    }

    /// `Name <a@b>`, `"Name" <a@b>`, `a@b`, `a@b (Name)`; several separated by commas.
    public static func list(_ header: String?) -> [EmailAddress] {
        guard let header else { return [] }
        var result: [EmailAddress] = []
        var current = ""
        var quoted = false, angle = false
        for character in header {
            if character == "\"" { quoted.toggle() }
            if character == "<" { angle = true }
            if character == ">" { angle = false }
            if character == "," && !quoted && !angle {
                if let address = parse(current) { result.append(address) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if let address = parse(current) { result.append(address) }
        return result
    }

    static func parse(_ text: String) -> EmailAddress? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let open = trimmed.lastIndex(of: "<"), let close = trimmed.lastIndex(of: ">"), open < close {
            let address = String(trimmed[trimmed.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
            var name = MIMEDecoding.header(String(trimmed[..<open])).trimmingCharacters(in: .whitespaces)
            if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
            return address.contains("@") ? EmailAddress(name: name.isEmpty ? nil : name, address: address) : nil
        }
        let address = trimmed.split(separator: " ").first.map(String.init) ?? ""
        return address.contains("@") ? EmailAddress(address: address) : nil
    }
}

/// What Parley needs from a received email: who wrote, the thread it belongs to, the text to
/// show, what was attached, and whether it is an automatic message or a bounce.
public struct ParsedEmail: Sendable {
    public struct Attachment: Sendable, Equatable {
        public var filename: String
        public var contentType: String
        public var size: Int
        /// The decoded content (kept out of equality: two parts are the same file by name, type and size).
        public var bytes: [UInt8] = []

        public init(filename: String, contentType: String, size: Int, bytes: [UInt8] = []) {
            self.filename = filename
            self.contentType = contentType
            self.size = size
            self.bytes = bytes
        }

        public static func == (a: Attachment, b: Attachment) -> Bool {
            a.filename == b.filename && a.contentType == b.contentType && a.size == b.size
        }
    }

    /// A delivery status notification about one of our messages.
    public struct Bounce: Sendable, Equatable {
        /// The Message-ID of the message that could not be delivered, when the report carries it.
        public var originalMessageId: String?
        public var recipient: String?
        /// RFC 3463 status, e.g. 5.1.1.
        public var status: String?
        public var diagnostic: String?

        public init(originalMessageId: String? = nil, recipient: String? = nil, status: String? = nil, diagnostic: String? = nil) {
            self.originalMessageId = originalMessageId
            self.recipient = recipient
            self.status = status
            self.diagnostic = diagnostic
        }
    }

    public var messageId: String?
    public var inReplyTo: [String]
    public var references: [String]
    public var from: EmailAddress?
    public var to: [EmailAddress]
    public var subject: String
    public var date: Date?
    /// The text to show: the plain part (or the HTML part's text), quoted history removed.
    public var text: String
    public var attachments: [Attachment]
    /// Auto-Submitted, Precedence bulk/auto_reply/list, or a vacation notice's headers.
    public var isAutomatic: Bool
    public var bounce: Bounce?

    public init(_ bytes: some Collection<UInt8>) {
        let root = MIMEPart(parsing: bytes)
        messageId = Self.ids(root.header("Message-ID")).first
        inReplyTo = Self.ids(root.header("In-Reply-To"))
        references = Self.ids(root.header("References"))
        from = EmailAddress.list(root.header("From").map(MIMEDecoding.header)).first
        to = EmailAddress.list(root.header("To").map(MIMEDecoding.header))
        subject = MIMEDecoding.header(root.header("Subject") ?? "").replacingOccurrences(of: "\t", with: " ")
        date = root.header("Date").flatMap(Self.date)
        var texts: (plain: String?, html: String?) = (nil, nil)
        var attachments: [Attachment] = []
        Self.walk(root, texts: &texts, attachments: &attachments)
        let body = texts.plain ?? texts.html.map(MailText.fromHTML) ?? ""
        text = MailText.withoutQuotedHistory(body)
        self.attachments = attachments
        let auto = (root.header("Auto-Submitted") ?? "no").lowercased()
        let precedence = (root.header("Precedence") ?? "").lowercased()
        isAutomatic = !auto.hasPrefix("no") || ["bulk", "auto_reply", "list", "junk"].contains(precedence)
            || root.header("X-Autoreply") != nil || root.header("X-Autorespond") != nil || root.header("List-Id") != nil
        bounce = Self.bounce(root, from: from)
    }

    /// Message ids in a header, without angle brackets.
    public static func ids(_ header: String?) -> [String] {
        guard let header else { return [] }
        var ids: [String] = []
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<"), let close = rest[open...].firstIndex(of: ">") {
            let id = rest[rest.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            if !id.isEmpty, id.count <= 998 { ids.append(id) }
            rest = rest[rest.index(after: close)...]
        }
        if ids.isEmpty {
            ids = header.split(whereSeparator: \.isWhitespace).map(String.init).filter { $0.contains("@") }
        }
        return ids
    }

    static func date(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        let cleaned = text.replacingOccurrences(of: #"\s*\([^)]*\)\s*$"#, with: "", options: .regularExpression).trimmingCharacters(in: .whitespaces)
        for format in ["EEE, d MMM yyyy HH:mm:ss Z", "d MMM yyyy HH:mm:ss Z", "EEE, d MMM yyyy HH:mm Z"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: cleaned) { return date }
        }
        return nil
    }

    /// Collects the first plain and HTML text parts (not attachments) and lists the attachments.
    static func walk(_ part: MIMEPart, texts: inout (plain: String?, html: String?), attachments: inout [Attachment]) {
        let type = part.contentType.type
        if !part.parts.isEmpty, type.hasPrefix("multipart/") {
            for child in part.parts { walk(child, texts: &texts, attachments: &attachments) }
            return
        }
        let disposition = part.disposition
        let isAttachment = disposition.kind == "attachment" || (disposition.filename != nil && !type.hasPrefix("text/"))
            || !(type.hasPrefix("text/") || type.hasPrefix("multipart/"))
        if isAttachment {
            let body = part.decodedBody
            attachments.append(Attachment(filename: disposition.filename ?? "unnamed", contentType: type, size: body.count, bytes: body))
        } else if type == "text/html" {
            if texts.html == nil { texts.html = part.text }
        } else if texts.plain == nil {
            texts.plain = part.text
        }
    }

    /// A delivery status notification (RFC 3464), or a mailer-daemon's report in plain text.
    static func bounce(_ root: MIMEPart, from: EmailAddress?) -> Bounce? {
        let type = root.contentType
        let isReport = type.type == "multipart/report" && type.parameters["report-type"]?.lowercased() == "delivery-status"
        let fromDaemon = from.map { $0.address.hasPrefix("mailer-daemon@") || $0.address.hasPrefix("postmaster@") } ?? false
        guard isReport || fromDaemon else { return nil }
        var bounce = Bounce()
        for part in root.parts {
            switch part.contentType.type {
            case "message/delivery-status":
                // Blocks of "Name: value" fields: one per message, then one per recipient.
                for line in MIMEDecoding.text(part.decodedBody, charset: "utf-8").split(whereSeparator: \.isNewline) {
                    guard let colon = line.firstIndex(of: ":") else { continue }
                    let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                    switch line[..<colon].trimmingCharacters(in: .whitespaces).lowercased() {
                    case "status": bounce.status = value
                    case "diagnostic-code": bounce.diagnostic = String(value.prefix(500))
                    case "final-recipient": bounce.recipient = value.split(separator: ";").last.map { $0.trimmingCharacters(in: .whitespaces) }
                    default: break
                    }
                }
            case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers":
                let original = part.parts.first ?? MIMEPart(parsing: part.decodedBody)
                bounce.originalMessageId = ids(original.header("Message-ID")).first
            default:
                break
            }
        }
        if bounce.originalMessageId == nil {
            bounce.originalMessageId = ids(root.header("In-Reply-To")).first ?? ids(root.header("References")).last
        }
        return bounce
    }
}
