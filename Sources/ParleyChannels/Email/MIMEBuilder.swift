import Foundation
import ParleyCore

/// Writes the emails Parley sends: UTF-8 text with an HTML alternative, RFC 2047 headers, our
/// own Message-ID, and In-Reply-To / References so the reply threads in the customer's client.
public struct OutgoingEmail: Sendable {
    public var from: EmailAddress
    public var to: EmailAddress
    public var subject: String
    public var text: String
    /// Without angle brackets.
    public var messageId: String
    public var inReplyTo: String?
    public var references: [String]
    public var date: Date
    /// Files sent with the message, as base64 parts of a multipart/mixed body.
    public var attachments: [OutboundFile] = []

    public init(from: EmailAddress, to: EmailAddress, subject: String, text: String, messageId: String,
                inReplyTo: String? = nil, references: [String] = [], date: Date = Date()) {
        self.from = from
        self.to = to
        self.subject = subject
        self.text = text
        self.messageId = messageId
        self.inReplyTo = inReplyTo
        self.references = references
        self.date = date
    }

    /// The reply subject for a thread: "Re: " once, never "Re: Re: ".
    public static func replySubject(_ subject: String) -> String {
        let trimmed = subject.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return "" }
        let lower = trimmed.lowercased()
        return lower.hasPrefix("re:") || lower.hasPrefix("aw:") || lower.hasPrefix("sv:") ? trimmed : "Re: " + trimmed
    }

    /// The message as sent over SMTP: CRLF line ends, 7-bit clean.
    public func rendered(boundary: String = "parley-" + UUID().uuidString) -> [UInt8] {
        var lines: [String] = [
            "From: " + Self.address(from),
            "To: " + Self.address(to),
            "Subject: " + Self.encodeHeader(subject),
            "Date: " + Self.rfc5322(date),
            "Message-ID: <\(messageId)>",
        ]
        if let inReplyTo { lines.append("In-Reply-To: <\(inReplyTo)>") }
        if !references.isEmpty { lines.append("References: " + references.suffix(20).map { "<\($0)>" }.joined(separator: "\r\n ")) }
        lines.append("MIME-Version: 1.0")
        let mixed = boundary + "-mixed"
        if !attachments.isEmpty {
            lines += ["Content-Type: multipart/mixed; boundary=\"\(mixed)\"", "", "--\(mixed)"]
        }
        lines += [
            "Content-Type: multipart/alternative; boundary=\"\(boundary)\"",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            Self.quotedPrintable(text),
            "--\(boundary)",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            Self.quotedPrintable(html),
            "--\(boundary)--",
        ]
        for file in attachments {
            let name = Self.encodeHeader(file.fileName).replacingOccurrences(of: "\"", with: "'")
            lines += [
                "--\(mixed)",
                "Content-Type: \(file.contentType); name=\"\(name)\"",
                "Content-Transfer-Encoding: base64",
                "Content-Disposition: \(file.kind.rendersInline ? "inline" : "attachment"); filename=\"\(name)\"",
                "",
            ]
            // RFC 2045: base64 lines of at most 76 characters.
            let encoded = Data(file.bytes).base64EncodedString()
            var index = encoded.startIndex
            while index < encoded.endIndex {
                let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
                lines.append(String(encoded[index..<end]))
                index = end
            }
        }
        if !attachments.isEmpty { lines.append("--\(mixed)--") }
        lines.append("")
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// The text as HTML: escaped, paragraphs and line breaks kept.
    var html: String {
        let escaped = text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
        let paragraphs = escaped.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n")
            .map { "<p>" + $0.replacingOccurrences(of: "\n", with: "<br>") + "</p>" }
        return "<!doctype html><html><body>" + paragraphs.joined() + "</body></html>"
    }

    static func address(_ address: EmailAddress) -> String {
        guard let name = address.name, !name.isEmpty else { return address.address }
        let safe = name.allSatisfy { $0.isASCII && $0 != "\"" && $0 != "\\" && !$0.isNewline }
        return (safe ? "\"\(name)\"" : encodeHeader(name)) + " <\(address.address)>"
    }

    /// RFC 2047 B-encoding for non-ASCII header text, in words short enough for 76-column lines.
    static func encodeHeader(_ text: String) -> String {
        let clean = text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        guard !clean.allSatisfy({ $0.isASCII }) else { return clean }
        var words: [String] = []
        var chunk = ""
        for character in clean {
            if (chunk + String(character)).utf8.count > 45 {
                words.append(chunk)
                chunk = ""
            }
            chunk.append(character)
        }
        if !chunk.isEmpty { words.append(chunk) }
        return words.map { "=?utf-8?B?" + Data($0.utf8).base64EncodedString() + "?=" }.joined(separator: "\r\n ")
    }

    /// Quoted-printable with soft breaks at 76 columns; line ends become CRLF.
    static func quotedPrintable(_ text: String) -> String {
        var output: [String] = []
        for line in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            var encoded = ""
            var column = 0
            let bytes = Array(line.utf8)
            for (index, byte) in bytes.enumerated() {
                let last = index == bytes.count - 1
                let plain = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || (byte == 32 && !last)
                // A leading "." is escaped too, so no line can look like the end of DATA.
                let piece = plain && !(column == 0 && byte == UInt8(ascii: ".")) ? String(UnicodeScalar(byte)) : String(format: "=%02X", byte)
                if column + piece.count > 75 {
                    encoded += "=\r\n"
                    column = 0
                }
                encoded += piece
                column += piece.count
            }
            output.append(encoded)
        }
        return output.joined(separator: "\r\n")
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return formatter.string(from: date)
    }
}
