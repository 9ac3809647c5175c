import Foundation
import ParleyCore

/// LINE keeps what users send: `GET /v2/bot/message/{id}/content` on its data host.
extension LineAdapter: MediaFetching {
    public static let dataBase = "https://api-data.line.me"

    public func fetchMedia(_ source: MediaSource, channel: ChannelConfig, http: ProviderHTTP, limit: Int64) async -> MediaFetch {
        guard let token = try? channel.credential("channelAccessToken") else { return .failed("the channel has no access token") }
        let url = "\(channel.baseURL(default: Self.dataBase))/v2/bot/message/\(ProviderHTTP.component(source.reference))/content"
        let result = await http.download(url, headers: [("Authorization", "Bearer \(token)")], limit: limit)
        // 202: a video or audio LINE is still preparing; an empty body is the same thing.
        if case .fetched(let bytes, _, _) = result, bytes.isEmpty { return .retry("LINE is still preparing the content") }
        return result
    }
}
