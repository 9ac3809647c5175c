import Foundation
import ParleyCore

/// Twilio's `MediaUrl{N}` needs the account's basic auth when the account requires it (the
/// default for new accounts); sending it always works.
extension TwilioSMSAdapter: MediaFetching {
    public func fetchMedia(_ source: MediaSource, channel: ChannelConfig, http: ProviderHTTP, limit: Int64) async -> MediaFetch {
        guard let sid = try? channel.credential("accountSid"), let token = try? channel.credential("authToken") else {
            return .failed("the channel has no account credentials")
        }
        let basic = Data("\(sid):\(token)".utf8).base64EncodedString()
        return await http.download(source.reference, headers: [("Authorization", "Basic \(basic)")], limit: limit)
    }
}
