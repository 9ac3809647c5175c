import Crypto
import Foundation
import ParleyCore

/// What Meta's platforms (WhatsApp Cloud, Messenger, Instagram) share: the `hub.*` subscription
/// handshake and `X-Hub-Signature-256` over the raw body with the app secret.
enum MetaWebhook {
    static let graphBase = "https://graph.facebook.com"
    static let defaultVersion = "v21.0"

    static func handshake(_ request: WebhookRequest, channel: ChannelConfig) -> WebhookReply {
        guard request.query["hub.mode"] == "subscribe", let challenge = request.query["hub.challenge"],
              let expected = channel.credentials["verifyToken"], !expected.isEmpty,
              let given = request.query["hub.verify_token"], constantTimeEquals(given, expected) else {
            return .forbidden
        }
        return WebhookReply(status: 200, contentType: "text/plain; charset=utf-8", body: challenge)
    }

    static func verify(_ request: WebhookRequest, channel: ChannelConfig) throws {
        let secret = try channel.credential("appSecret")
        guard let header = request.headers["x-hub-signature-256"], header.hasPrefix("sha256=") else {
            throw ChannelError.unauthorized("missing X-Hub-Signature-256")
        }
        guard constantTimeEquals(String(header.dropFirst("sha256=".count)).lowercased(), signature(request.body, secret: secret)) else {
            throw ChannelError.unauthorized("X-Hub-Signature-256 does not match the body")
        }
    }

    /// Hex HMAC-SHA256 of the body.
    static func signature(_ body: [UInt8], secret: String) -> String {
        HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(secret.utf8))).hexEncoded
    }

    static func json(_ request: WebhookRequest) throws -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(request.body))) as? [String: Any] else {
            throw ChannelError.badPayload("body is not a JSON object")
        }
        return object
    }

    static func version(_ channel: ChannelConfig) -> String {
        channel.credentials["apiVersion"] ?? defaultVersion
    }

    /// Meta's error envelope: `{"error":{"message","code","error_subcode"}}`.
    static func error(_ response: ProviderHTTP.Response) -> (code: Int, subcode: Int?, message: String) {
        let error = response.json?["error"] as? [String: Any] ?? [:]
        return ((error["code"] as? NSNumber)?.intValue ?? response.status, (error["error_subcode"] as? NSNumber)?.intValue,
                error["message"] as? String ?? "HTTP \(response.status)")
    }
}

extension HMAC where H == SHA256 {
    static func authenticationCode(for bytes: [UInt8], using key: SymmetricKey) -> HashedAuthenticationCode<SHA256> {
        authenticationCode(for: Data(bytes), using: key)
    }
}
