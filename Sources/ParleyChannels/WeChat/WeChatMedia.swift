import Foundation
import ParleyCore

/// WeChat keeps what users send for three days: `GET /cgi-bin/media/get` with the media id.
/// An error comes back as a JSON body instead of the file.
extension WeChatAdapter: MediaFetching {
    public func fetchMedia(_ source: MediaSource, channel: ChannelConfig, http: ProviderHTTP, limit: Int64) async -> MediaFetch {
        guard let key = try? Self.key(channel) else { return .failed("the channel has no app credentials") }
        let token: String
        switch await tokens.token(for: key, fetch: { await Self.fetchToken(key, http: http) }) {
        case .success(let fresh): token = fresh
        case .failure(let unavailable): return .retry("no access token: \(unavailable.result)")
        }
        let url = "\(key.base)/cgi-bin/media/get?access_token=\(Self.encoded(token))&media_id=\(Self.encoded(source.reference))"
        let result = await http.download(url, limit: limit)
        guard case .fetched(let bytes, let type, _) = result, type?.contains("json") == true || type?.hasPrefix("text/plain") == true,
              let json = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any],
              let code = (json["errcode"] as? NSNumber)?.intValue, code != 0 else {
            return result
        }
        if Self.staleTokenCodes.contains(code) {
            await tokens.invalidate(key, token: token)
            return .retry("errcode \(code)")
        }
        return code == -1 ? .retry("errcode -1") : .failed("WeChat refused the download (errcode \(code))")
    }
}
