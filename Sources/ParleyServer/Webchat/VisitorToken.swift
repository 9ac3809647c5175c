import Crypto
import Foundation
import ParleyChannels
import ParleyCore
import ParleyStore

/// A visitor's proof of who they are, kept by the widget in the browser: the channel and the
/// visitor's address on it, signed by the server. Anonymous visitors (`visitor:…`) are signed
/// with a secret that never leaves the server; verified users (`user:<identifier>`) with the
/// channel's identity secret, so rotating that secret signs every verified visitor out.
struct VisitorToken: Equatable, Sendable {
    let channelId: Int64
    /// The visitor's contact identity on the channel.
    let externalId: String

    static let anonymousPrefix = "visitor:"
    static let verifiedPrefix = "user:"

    var verified: Bool { externalId.hasPrefix(Self.verifiedPrefix) }

    /// The identifier a verified visitor's site gave.
    var identifier: String? { verified ? String(externalId.dropFirst(Self.verifiedPrefix.count)) : nil }

    static func anonymous(channelId: Int64) -> VisitorToken {
        VisitorToken(channelId: channelId, externalId: anonymousPrefix + UUID().uuidString.lowercased())
    }

    static func verified(channelId: Int64, identifier: String) -> VisitorToken {
        VisitorToken(channelId: channelId, externalId: verifiedPrefix + identifier)
    }

    private struct Claims: Codable {
        let c: Int64
        let v: String
    }

    func signed(by channel: WebchatChannel) -> String {
        // Sorted keys: the same visitor always gets the same token.
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let payload = Self.base64URL(Data((try? encoder.encode(Claims(c: channelId, v: externalId))) ?? Data()))
        return payload + "." + Self.signature(payload, key: Self.key(verified: verified, channel: channel))
    }

    /// The channel a token claims to belong to, read before its signature can be checked.
    static func claimedChannel(_ token: String) -> Int64? {
        claims(token)?.c
    }

    /// The token's visitor, if `channel` signed it.
    static func verify(_ token: String, channel: WebchatChannel) -> VisitorToken? {
        guard token.count <= 1024, let claims = claims(token), claims.c == channel.channelId,
              claims.v.hasPrefix(anonymousPrefix) || claims.v.hasPrefix(verifiedPrefix) else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        let expected = signature(String(parts[0]), key: key(verified: claims.v.hasPrefix(verifiedPrefix), channel: channel))
        guard constantTimeEquals(String(parts[1]), expected) else { return nil }
        return VisitorToken(channelId: claims.c, externalId: claims.v)
    }

    /// Whether `hash` is the hex HMAC-SHA256 of `identifier` under the channel's identity secret.
    static func identifierMatches(_ identifier: String, hash: String, channel: WebchatChannel) -> Bool {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(identifier.utf8), using: SymmetricKey(data: Data(channel.identitySecret.utf8)))
        return constantTimeEquals(hash.lowercased(), mac.hexEncoded)
    }

    private static func claims(_ token: String) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let data = decodeBase64URL(String(parts[0])) else { return nil }
        return try? JSONDecoder().decode(Claims.self, from: data)
    }

    private static func key(verified: Bool, channel: WebchatChannel) -> SymmetricKey {
        SymmetricKey(data: Data(((verified ? channel.identitySecret : channel.tokenSecret) + "|visitor-token").utf8))
    }

    private static func signature(_ payload: String, key: SymmetricKey) -> String {
        base64URL(Data(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)))
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}
