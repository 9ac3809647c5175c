import Foundation

extension ChannelConfig {
    /// `text` with every credential value of this channel replaced, for provider error text that
    /// is shown to a user or stored with a message: a provider (or a URL in a client error) may
    /// repeat the token it was given.
    public func redacting(_ text: String) -> String {
        CredentialRedaction.redact(text, secrets: Array(credentials.values) + [webhookSecret])
    }
}

public enum CredentialRedaction {
    /// Values shorter than this are not secrets worth hiding (flags, ids such as "1"), and
    /// replacing them would garble the text.
    static let minimumLength = 6

    public static func redact(_ text: String, secrets: [String]) -> String {
        // Longest first, so that a secret containing another is replaced whole.
        let candidates = secrets.filter { $0.count >= minimumLength }.sorted { $0.count > $1.count }
        var result = text
        for secret in candidates {
            result = result.replacingOccurrences(of: secret, with: "[redacted]")
            // A URL or form body carries the secret percent-encoded.
            let encoded = ProviderHTTP.component(secret)
            if encoded != secret { result = result.replacingOccurrences(of: encoded, with: "[redacted]") }
        }
        return result
    }
}
