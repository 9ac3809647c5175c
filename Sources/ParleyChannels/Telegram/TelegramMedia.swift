import Foundation
import ParleyCore

/// Telegram names a file id: `getFile` gives its path, downloaded from `/file/bot<token>/<path>`.
extension TelegramAdapter: MediaFetching {
    public func fetchMedia(_ source: MediaSource, channel: ChannelConfig, http: ProviderHTTP, limit: Int64) async -> MediaFetch {
        guard let token = try? channel.credential("botToken") else { return .failed("the channel has no bot token") }
        let base = channel.baseURL(default: Self.defaultBase)
        let response: ProviderHTTP.Response
        do {
            response = try await http.send(.GET, "\(base)/bot\(token)/getFile?file_id=\(ProviderHTTP.component(source.reference))")
        } catch {
            return .retry("\(error)")
        }
        if ProviderHTTP.transient(response) != nil { return .retry("HTTP \(response.status)") }
        guard let result = response.json?["result"] as? [String: Any], let path = result["file_path"] as? String, !path.contains("..") else {
            return .failed("Telegram has no such file (HTTP \(response.status))")
        }
        if let size = (result["file_size"] as? NSNumber)?.int64Value, size > limit {
            return .failed("the file is \(size) bytes, over the limit of \(limit)")
        }
        let escapedPath = path.split(separator: "/").map { ProviderHTTP.component(String($0)) }.joined(separator: "/")
        return await http.download("\(base)/file/bot\(token)/\(escapedPath)", limit: limit)
    }
}
