import Foundation

/// One MIME entity: its headers (unfolded, not yet decoded) and body, with the parts of a
/// multipart body parsed too. Parsing never fails: a message with no header/body separator is
/// all headers, an unterminated multipart ends where the bytes end, a line may end in CRLF,
/// LF or nothing.
public struct MIMEPart: Sendable {
    public var headers: [(name: String, value: String)]
    /// The body as sent (still transfer-encoded).
    public var body: ArraySlice<UInt8>
    public var parts: [MIMEPart]

    /// Deeper nesting than this is treated as an opaque body.
    static let maxDepth = 12
    /// A header value longer than this is cut (a 1 MB header is noise, not content).
    static let maxHeaderValue = 16 * 1024
    static let maxHeaders = 500

    public init(parsing bytes: some Collection<UInt8>) {
        self.init(slice: ArraySlice(bytes), depth: 0)
    }

    init(slice bytes: ArraySlice<UInt8>, depth: Int) {
        let (headers, bodyStart) = Self.headers(bytes)
        self.headers = headers
        body = bytes[bodyStart...]
        parts = []
        let type = contentType
        if type.type.hasPrefix("multipart/"), let boundary = type.parameters["boundary"], !boundary.isEmpty, depth < Self.maxDepth {
            parts = Self.split(body, boundary: Array(boundary.utf8)).map { MIMEPart(slice: $0, depth: depth + 1) }
        } else if type.type == "message/rfc822" || type.type == "message/global", depth < Self.maxDepth {
            parts = [MIMEPart(slice: decodedBody[...], depth: depth + 1)]
        }
    }

    /// The first value of a header (case-insensitive name), unfolded.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public var contentType: (type: String, parameters: [String: String]) {
        let (value, parameters) = Self.parameterized(header("Content-Type") ?? "text/plain")
        return (value.isEmpty ? "text/plain" : value.lowercased(), parameters)
    }

    /// `attachment` or `inline`, with the file name if one is given.
    public var disposition: (kind: String?, filename: String?) {
        let (kind, parameters) = Self.parameterized(header("Content-Disposition") ?? "")
        let name = parameters["filename"] ?? contentType.parameters["name"]
        return (kind.isEmpty ? nil : kind.lowercased(), name.map(MIMEDecoding.header))
    }

    /// The body with its transfer encoding undone.
    public var decodedBody: [UInt8] {
        switch (header("Content-Transfer-Encoding") ?? "7bit").lowercased().trimmingCharacters(in: .whitespaces) {
        case "base64": return MIMEDecoding.base64(Array(body))
        case "quoted-printable": return MIMEDecoding.quotedPrintable(Array(body))
        default: return Array(body)
        }
    }

    /// A text part's content as a string, in its charset.
    public var text: String {
        MIMEDecoding.text(decodedBody, charset: contentType.parameters["charset"])
    }

    // MARK: Parsing

    /// Reads the header section; returns the unfolded headers and where the body starts.
    static func headers(_ bytes: ArraySlice<UInt8>) -> ([(name: String, value: String)], Int) {
        var headers: [(name: String, value: String)] = []
        var index = bytes.startIndex
        var current: (name: String, value: [UInt8])?
        func flush() {
            guard let header = current, headers.count < maxHeaders else { return }
            let value = MIMEDecoding.text(header.value.prefix(maxHeaderValue), charset: "utf-8").trimmingCharacters(in: .whitespaces)
            headers.append((header.name, value))
        }
        while index < bytes.endIndex {
            let (lineEnd, next) = lineBounds(bytes, from: index)
            let line = bytes[index..<lineEnd]
            if line.isEmpty {
                flush()
                return (headers, next)
            }
            if let first = line.first, first == UInt8(ascii: " ") || first == UInt8(ascii: "\t") {
                // A folded continuation of the previous header.
                if var header = current, header.value.count < maxHeaderValue {
                    header.value += [UInt8(ascii: " ")] + line.drop { $0 == 32 || $0 == 9 }
                    current = header
                }
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
                flush()
                let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces)
                current = (name, Array(line[(colon + 1)...].prefix(maxHeaderValue)))
            } else if headers.isEmpty && current == nil {
                // No header at all: the whole thing is a body.
                return ([], bytes.startIndex)
            }
            index = next
        }
        flush()
        return (headers, bytes.endIndex)
    }

    /// The end of the line starting at `start` (excluding CR LF) and where the next one starts.
    static func lineBounds(_ bytes: ArraySlice<UInt8>, from start: Int) -> (end: Int, next: Int) {
        guard let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) else { return (bytes.endIndex, bytes.endIndex) }
        let end = newline > start && bytes[newline - 1] == UInt8(ascii: "\r") ? newline - 1 : newline
        return (end, newline + 1)
    }

    /// The parts between `--boundary` lines, up to `--boundary--` or the end.
    static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var index = body.startIndex
        while index < body.endIndex {
            let (lineEnd, next) = lineBounds(body, from: index)
            let line = body[index..<lineEnd]
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                if let start = partStart {
                    // The line break before the delimiter belongs to the delimiter.
                    var end = index
                    if end > start, body[end - 1] == UInt8(ascii: "\n") { end -= 1 }
                    if end > start, body[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                    parts.append(body[start..<max(start, end)])
                }
                if rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) { return parts }
                partStart = next
            }
            index = next
        }
        if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
        return parts
    }

    /// `type/subtype; name="value"; name*=utf-8''value` → ("type/subtype", [name: value]).
    static func parameterized(_ value: String) -> (String, [String: String]) {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        for character in value {
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            var name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            var parameter = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if parameter.hasPrefix("\""), parameter.hasSuffix("\""), parameter.count >= 2 { parameter = String(parameter.dropFirst().dropLast()) }
            if name.hasSuffix("*") {
                // RFC 2231: charset'language'percent-encoded.
                name.removeLast()
                let fields = parameter.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
                if fields.count == 3 {
                    let bytes = Array((String(fields[2]).removingPercentEncoding ?? String(fields[2])).utf8)
                    parameter = MIMEDecoding.text(bytes, charset: String(fields[0]))
                }
            }
            parameters[name] = parameter
        }
        return (pieces[0].trimmingCharacters(in: .whitespaces), parameters)
    }
}
