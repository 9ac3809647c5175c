import AsyncHTTPClient
import Foundation
import ParleyChannels
import ParleyCore
import ParleyStore

/// Everything that talks to providers: the adapters, the shared HTTP client, and the mapping
/// from stored channels to adapter configuration.
public struct ChannelRuntime: Sendable {
    public let http: ProviderHTTP
    public let adapters: [ChannelKind: any ChannelAdapter]

    public init(http: ProviderHTTP, adapters: [ChannelKind: any ChannelAdapter] = ChannelAdapters.all) {
        self.http = http
        self.adapters = adapters
    }

    func config(_ stored: ChannelRepository.ProviderConfig, publicURL: String) -> ChannelConfig {
        ChannelConfig(id: stored.id, workspaceId: stored.workspaceId, kind: stored.kind, credentials: stored.credentials,
                      apiBaseURL: stored.apiBaseUrl, webhookSecret: stored.webhookSecret, webhookURL: "\(publicURL)/webhooks/\(stored.id)")
    }
}
