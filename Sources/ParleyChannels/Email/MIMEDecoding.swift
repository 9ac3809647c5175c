import Foundation

/// The decodings mail needs: transfer encodings (quoted-printable, base64), charsets, and RFC 2047
/// encoded words in headers. Everything is best effort: bad input decodes to something readable,
/// never to an error.
public enum MIMEDecoding {
    /// Bytes in `charset` as text. UTF-8, US-ASCII, ISO-8859-1 and Windows-1252 are decoded
    /// exactly; anything else is read as UTF-8, then as Windows-1252.
    public static func text(_ bytes: some Collection<UInt8>, charset: String?) -> String {
        switch (charset ?? "utf-8").lowercased().trimmingCharacters(in: .whitespaces) {
        case "iso-8859-1", "latin1", "iso_8859-1", "l1", "iso8859-1":
            return String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        case "windows-1252", "cp1252", "x-cp1252":
            return windows1252(bytes)
        default:
            if let text = String(validating: Array(bytes), as: UTF8.self) { return text }
            return windows1252(bytes)
        }
    }

    /// Windows-1252: Latin-1 with printable characters in 0x80–0x9F.
    static func windows1252(_ bytes: some Collection<UInt8>) -> String {
        let high: [UInt32] = [0x20AC, 0xFFFD, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0xFFFD, 0x017D, 0xFFFD,
                              0xFFFD, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0xFFFD, 0x017E, 0x0178]
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            let value = (0x80...0x9F).contains(byte) ? high[Int(byte) - 0x80] : UInt32(byte)
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
        }
        return String(scalars)
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX` escapes and `=` soft line breaks.
    public static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "=") {
                if index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
                // A soft line break: "=" then optional spaces and the line end.
                var next = index + 1
                while next < bytes.count, bytes[next] == UInt8(ascii: " ") || bytes[next] == UInt8(ascii: "\t") { next += 1 }
                if next < bytes.count, bytes[next] == UInt8(ascii: "\r") { next += 1 }
                if next < bytes.count, bytes[next] == UInt8(ascii: "\n") {
                    index = next + 1
                    continue
                }
                if next >= bytes.count { break }
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    /// Base64 ignoring line breaks and anything outside the alphabet.
    public static func base64(_ bytes: [UInt8]) -> [UInt8] {
        var clean = bytes.filter { ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 43 || $0 == 47 }
        while clean.count % 4 != 0 { clean.append(UInt8(ascii: "=")) }
        return Data(base64Encoded: Data(clean)).map { [UInt8]($0) } ?? []
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }

    /// A header value with its RFC 2047 encoded words (`=?charset?B|Q?…?=`) decoded; whitespace
    /// between two encoded words is dropped, as the RFC says.
    public static func header(_ value: String) -> String {
        guard value.contains("=?") else { return value }
        var result = ""
        var rest = Substring(value)
        var pendingSpace = ""
        var lastWasWord = false
        while !rest.isEmpty {
            if rest.hasPrefix("=?"), let (decoded, after) = encodedWord(rest) {
                if !lastWasWord { result += pendingSpace }
                result += decoded
                pendingSpace = ""
                lastWasWord = true
                rest = after
                continue
            }
            let character = rest.removeFirst()
            if character == " " || character == "\t" {
                pendingSpace.append(character)
            } else {
                result += pendingSpace
                pendingSpace = ""
                result.append(character)
                lastWasWord = false
            }
        }
        return result + pendingSpace
    }

    /// One encoded word at the start of `input`, and what follows it.
    static func encodedWord(_ input: Substring) -> (String, Substring)? {
        let parts = input.dropFirst(2).split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[3].hasPrefix("="), parts[0].count < 40 else { return nil }
        let charset = parts[0].split(separator: "*").first.map(String.init)  // RFC 2231 language suffix
        let payload = Array(parts[2].utf8)
        let bytes: [UInt8]
        switch parts[1].uppercased() {
        case "B": bytes = base64(payload)
        case "Q": bytes = quotedPrintable(payload.map { $0 == UInt8(ascii: "_") ? UInt8(ascii: " ") : $0 })
        default: return nil
        }
        return (Self.text(bytes, charset: charset), parts[3].dropFirst())
    }
}
