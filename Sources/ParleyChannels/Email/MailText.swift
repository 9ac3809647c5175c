import Foundation

/// Turns mail bodies into the text an agent reads.
public enum MailText {
    /// Text from an HTML part: tags dropped (block tags become line breaks), scripts and styles
    /// removed, entities decoded. Never a parser of record, only a reader's view.
    public static func fromHTML(_ html: String) -> String {
        var text = html.replacingOccurrences(of: #"(?is)<(script|style|head)\b.*?</\1\s*>"#, with: "", options: .regularExpression)
        text = text.replacingOccurrences(of: #"(?i)<br\s*/?>"#, with: "\n", options: .regularExpression)
        text = text.replacingOccurrences(of: #"(?i)</(p|div|li|tr|h[1-6]|blockquote)\s*>"#, with: "\n", options: .regularExpression)
        text = text.replacingOccurrences(of: #"(?s)<[^>]*>"#, with: "", options: .regularExpression)
        text = decodeEntities(text)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        return lines.joined(separator: "\n").replacingOccurrences(of: #"\n{3,}"#, with: "\n\n", options: .regularExpression)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let named = ["amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": " ", "euro": "€", "copy": "©", "hellip": "…", "mdash": "—", "ndash": "–"]
        var result = ""
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            result += rest[..<ampersand]
            let after = rest[rest.index(after: ampersand)...]
            if let semicolon = after.prefix(10).firstIndex(of: ";") {
                let entity = String(after[..<semicolon])
                var replacement: String?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else {
                    replacement = named[entity.lowercased()]
                }
                if let replacement {
                    result += replacement
                    rest = after[after.index(after: semicolon)...]
                    continue
                }
            }
            result += "&"
            rest = after
        }
        return result + rest
    }

    /// The new part of a reply: everything from the first line that introduces the quoted
    /// original ("On … wrote:", "-----Original Message-----", a block of "> " lines at the end)
    /// is cut. If that would leave nothing, the text is kept whole.
    public static func withoutQuotedHistory(_ text: String) -> String {
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        let lines = normalized.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var cut = lines.count
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            let lower = trimmed.lowercased()
            if lower.hasPrefix("-----original message-----") || lower.hasPrefix("________________________________")
                || (lower.hasPrefix("on ") && lower.hasSuffix("wrote:")) || (lower.hasPrefix("le ") && lower.hasSuffix("a écrit :"))
                || (lower.hasPrefix("am ") && lower.hasSuffix("schrieb:")) || (lower.hasPrefix("el ") && lower.hasSuffix("escribió:")) {
                cut = index
                break
            }
            // "On Mon, 1 Jan 2026 at 10:00, Someone <a@b>" may wrap before "wrote:".
            if lower.hasPrefix("on "), index + 1 < lines.count, lines[index + 1].trimmingCharacters(in: .whitespaces).lowercased().hasSuffix("wrote:") {
                cut = index
                break
            }
            if trimmed.hasPrefix(">"), lines[index...].allSatisfy({ $0.trimmingCharacters(in: .whitespaces).hasPrefix(">") || $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                cut = index
                break
            }
        }
        let kept = lines[..<cut].joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
        return kept.isEmpty ? normalized.trimmingCharacters(in: .whitespacesAndNewlines) : kept
    }
}
