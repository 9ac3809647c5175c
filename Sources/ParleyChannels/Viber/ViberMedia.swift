import Foundation
import ParleyCore

/// Viber's webhook carries the file's URL; it needs no token.
extension ViberAdapter: MediaFetching {
    public func fetchMedia(_ source: MediaSource, channel: ChannelConfig, http: ProviderHTTP, limit: Int64) async -> MediaFetch {
        await http.download(source.reference, limit: limit)
    }
}
