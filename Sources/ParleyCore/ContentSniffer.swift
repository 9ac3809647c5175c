import Foundation

/// Decides a file's content type from its bytes: what a sender declares is only checked
/// against them, never believed (a "photo" that is an HTML page must not reach a browser as
/// one, and a lie is refused with a reason).
public enum ContentSniffer {
    public enum Verdict: Equatable, Sendable {
        case accepted(contentType: String)
        case refused(String)
    }

    /// The type the bytes show, or nil when they show no known type.
    public static func sniff(_ bytes: [UInt8]) -> String? {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            bytes.count >= offset + prefix.count && Array(bytes[offset..<offset + prefix.count]) == prefix
        }
        let ascii = { (text: String) in Array(text.utf8) }
        if starts([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if starts(ascii("GIF87a")) || starts(ascii("GIF89a")) { return "image/gif" }
        if starts(ascii("RIFF")) && starts(ascii("WEBP"), at: 8) { return "image/webp" }
        if starts(ascii("RIFF")) && starts(ascii("WAVE"), at: 8) { return "audio/wav" }
        if starts(ascii("%PDF-")) { return "application/pdf" }
        if starts(ascii("OggS")) { return "audio/ogg" }
        if starts(ascii("#!AMR")) { return "audio/amr" }
        if starts(ascii("ID3")) || starts([0xFF, 0xFB]) || starts([0xFF, 0xF3]) || starts([0xFF, 0xF2]) { return "audio/mpeg" }
        if starts([0x1A, 0x45, 0xDF, 0xA3]) { return "video/webm" }
        if starts(ascii("ftyp"), at: 4) {
            let brand = bytes.count >= 12 ? String(decoding: bytes[8..<12], as: UTF8.self) : ""
            if brand.hasPrefix("M4A") { return "audio/mp4" }
            if brand.hasPrefix("qt") { return "video/quicktime" }
            if brand.hasPrefix("3gp") { return "video/3gpp" }
            return "video/mp4"
        }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return "application/zip" }
        if isText(bytes) { return "text/plain" }
        return nil
    }

    /// The type to keep for `bytes`, given what the sender declared.
    public static func verdict(_ bytes: [UInt8], declared: String?) -> Verdict {
        let claimed = declared.map(normalized)
        guard let found = sniff(bytes) else {
            if let claimed, claimsSpecificType(claimed) {
                return .refused("the file was declared \(claimed) but its content is not")
            }
            return .accepted(contentType: "application/octet-stream")
        }
        if let claimed, claimsSpecificType(claimed), family(claimed) != family(found) {
            return .refused("the file was declared \(claimed) but its content is \(found)")
        }
        // Office documents are zip archives: the declared type names them once the bytes agree.
        if found == "application/zip", let claimed, claimed.hasPrefix("application/vnd.openxmlformats") || claimed.hasPrefix("application/vnd.oasis") {
            return .accepted(contentType: claimed)
        }
        return .accepted(contentType: found)
    }

    /// A file extension for a content type, for nameless files.
    public static func fileExtension(_ contentType: String) -> String? {
        let known = [
            "image/jpeg": "jpg", "image/png": "png", "image/gif": "gif", "image/webp": "webp", "audio/wav": "wav",
            "application/pdf": "pdf", "audio/ogg": "ogg", "audio/amr": "amr", "audio/mpeg": "mp3", "video/webm": "webm",
            "audio/mp4": "m4a", "video/quicktime": "mov", "video/3gpp": "3gp", "video/mp4": "mp4", "application/zip": "zip",
            "text/plain": "txt",
        ]
        return known[normalized(contentType)]
    }

    static func normalized(_ contentType: String) -> String {
        (contentType.split(separator: ";").first.map(String.init) ?? "").trimmingCharacters(in: .whitespaces).lowercased()
    }

    /// Types whose claim the bytes must bear out: media and PDF (what browsers render).
    static func claimsSpecificType(_ type: String) -> Bool {
        type.hasPrefix("image/") || type.hasPrefix("audio/") || type.hasPrefix("video/") || type == "application/pdf"
    }

    static func family(_ type: String) -> String {
        if type == "application/pdf" { return type }
        if type == "application/ogg" { return "audio" }
        return String(type.split(separator: "/").first ?? "")
    }

    /// UTF-8 without NUL or most control bytes in the first 4 KiB.
    static func isText(_ bytes: [UInt8]) -> Bool {
        let head = bytes.prefix(4096)
        guard !head.isEmpty else { return false }
        if head.contains(where: { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) }) { return false }
        // A cut in the middle of a multi-byte character at the end is not a reason to refuse.
        for trim in 0...3 where head.count > trim {
            if String(validating: head.dropLast(trim), as: UTF8.self) != nil { return true }
        }
        return false
    }
}
