import Crypto
import Foundation
import ParleyChannels
import ParleyCore
import ParleyStore

/// Signed, expiring links to one attachment: `/files/{id}?expires=…&signature=…`, the
/// signature a hex HMAC-SHA256 of "id.expires" under the attachment's own random access key.
/// Nothing but the row can make one, and a leaked link dies at its expiry.
enum AttachmentLinks {
    /// Links handed to widget visitors and to the API's readers.
    static let readerLifetime: TimeInterval = 3600
    /// Links handed to providers, which may fetch the file minutes or hours later.
    static let providerLifetime: TimeInterval = 7 * 24 * 3600

    static func path(_ stored: StoredAttachment, expires: Date) -> String {
        path(id: stored.attachment.id, key: stored.accessKey, expires: expires)
    }

    static func path(id: Int64, key: String, expires: Date) -> String {
        let seconds = Int64(expires.timeIntervalSince1970)
        return "/files/\(id)?expires=\(seconds)&signature=\(signature(id: id, key: key, expires: seconds))"
    }

    static func signature(id: Int64, key: String, expires: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(expires)".utf8), using: SymmetricKey(data: Array(key.utf8)))
        return mac.hexEncoded
    }

    enum Check: Equatable {
        case valid
        case expired
        case forged
    }

    static func check(_ stored: StoredAttachment, expires: String?, signature: String?, now: Date) -> Check {
        guard let expires, let seconds = Int64(expires), let signature,
              constantTimeEquals(signature, Self.signature(id: stored.attachment.id, key: stored.accessKey, expires: seconds)) else { return .forged }
        return Double(seconds) < now.timeIntervalSince1970 ? .expired : .valid
    }
}
