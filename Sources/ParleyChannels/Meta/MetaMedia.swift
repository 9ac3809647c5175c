import Foundation
import ParleyCore

/// WhatsApp names a media id: `GET /{media-id}` gives a short-lived URL, downloaded with the
/// same access token.
extension WhatsAppAdapter: MediaFetching {
    public func fetchMedia(_ source: MediaSource, channel: ChannelConfig, http: ProviderHTTP, limit: Int64) async -> MediaFetch {
        guard let token = try? channel.credential("accessToken") else { return .failed("the channel has no access token") }
        let auth = [("Authorization", "Bearer \(token)")]
        let url = "\(channel.baseURL(default: MetaWebhook.graphBase))/\(MetaWebhook.version(channel))/\(ProviderHTTP.component(source.reference))"
        let response: ProviderHTTP.Response
        do { response = try await http.send(.GET, url, headers: auth) } catch {
            return .retry("\(error)")
        }
        if ProviderHTTP.transient(response) != nil { return .retry("HTTP \(response.status)") }
        guard response.status == 200, let json = response.json, let location = json["url"] as? String else {
            return .failed("WhatsApp has no such media (HTTP \(response.status))")
        }
        if let size = (json["file_size"] as? NSNumber)?.int64Value, size > limit {
            return .failed("the file is \(size) bytes, over the limit of \(limit)")
        }
        return await http.download(location, headers: auth, limit: limit)
    }
}

/// Messenger and Instagram give a CDN URL that needs no token.
extension MessengerAdapter: MediaFetching {
    public func fetchMedia(_ source: MediaSource, channel: ChannelConfig, http: ProviderHTTP, limit: Int64) async -> MediaFetch {
        await http.download(source.reference, limit: limit)
    }
}
