import AsyncHTTPClient
import Foundation
import Logging
import ParleyChannels
import ParleyCore
import ParleyStore
import Prometheus

/// The composition root's product: every dependency a route may use, built once.
public struct Services: Sendable {
    public let configuration: ServerConfiguration
    public let database: any Database
    public let clock: any ParleyClock
    public let passwords: PasswordHasher
    public let metrics: PrometheusCollectorRegistry
    public let logger: Logger
    public let channelRuntime: ChannelRuntime
    /// Failed logins, shared by every instance through the database.
    var loginThrottle: LoginThrottleStore { LoginThrottleStore(database: database) }
    /// Webhook nonces already taken (WeChat), shared by every instance.
    var webhookNonces: WebhookNonceStore { WebhookNonceStore(database: database) }
    /// This instance's WebSocket clients (fed by ``RealtimeService``).
    public let eventHub: EventHub

    public var workspaces: WorkspaceRepository { WorkspaceRepository(database: database) }
    public var users: UserRepository { UserRepository(database: database) }
    public var tokens: TokenRepository { TokenRepository(database: database) }
    public var channels: ChannelRepository { ChannelRepository(database: database) }
    public var contacts: ContactRepository { ContactRepository(database: database) }
    public var customFields: CustomFieldRepository { CustomFieldRepository(database: database) }
    public var conversations: ConversationRepository { ConversationRepository(database: database) }
    public var inbox: InboxRepository { InboxRepository(database: database) }
    public var timeline: TimelineRepository { TimelineRepository(database: database) }
    public var inbound: InboundRecorder { InboundRecorder(database: database) }
    public var outbound: OutboundSender { OutboundSender(database: database) }
    public var templates: TemplateRepository { TemplateRepository(database: database) }
    public var outbox: OutboxRepository { OutboxRepository(database: database, lease: configuration.outboxLease) }
    public var statusUpdater: MessageStatusUpdater { MessageStatusUpdater(database: database) }
    public var revisions: MessageRevisions { MessageRevisions(database: database) }
    public var profiles: ProfileRepository { ProfileRepository(database: database) }
    /// Wakes the ``ProfileWorker`` when a webhook marked a nameless sender for a profile lookup.
    public let profileSignal = CommitSignal()
    public var oneTimeTokens: OneTimeTokenRepository { OneTimeTokenRepository(database: database) }
    public var eventFeed: EventFeed { EventFeed(database: database) }
    public var webchat: WebchatRepository { WebchatRepository(database: database) }
    public var email: EmailRepository { EmailRepository(database: database) }
    public var attachments: AttachmentRepository { AttachmentRepository(database: database) }
    public var queued: QueuedMessages { QueuedMessages(database: database) }
    public var reminders: ReminderRepository { ReminderRepository(database: database) }
    public var notifications: NotificationRepository { NotificationRepository(database: database) }
    /// Where attachment bytes are kept (the local disk, or an S3-compatible store).
    public let blobs: any BlobStore
    /// Wakes the ``MediaWorker`` when a webhook named files to download.
    public let mediaSignal = CommitSignal()
    /// Wakes the ``ReachWorker`` when a reminder was set (it may be due at once).
    public let reminderSignal = CommitSignal()
    /// Which hosts outbound requests may reach: check every user-supplied URL with
    /// `try await services.networkTargets.check(url:)` before connecting (``NetworkTargetPolicy``).
    public var networkTargets: NetworkTargetPolicy { channelRuntime.http.targets }
    /// Limits for the website chat widget's public routes.
    let widgetLimits = WidgetRateLimiter()

    /// Increments a `parley_<name>_total` counter.
    func count(_ name: String, help: String, labels: [(String, String)] = []) {
        metrics.makeCounter(descriptor: MetricNameDescriptor(namespace: "parley", metricName: name, unitName: "total", helpText: help), labels: labels)
            .increment()
    }

    public init(
        configuration: ServerConfiguration,
        database: any Database,
        clock: any ParleyClock = SystemClock(),
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        channelRuntime: ChannelRuntime? = nil,
        blobs: (any BlobStore)? = nil,
        logger: Logger
    ) {
        // Without a configured store (tests, tools) files go to a fresh temporary directory.
        self.blobs = blobs ?? DiskBlobStore(root: FileManager.default.temporaryDirectory.appendingPathComponent("parley-files-\(UUID().uuidString)"))
        self.channelRuntime = channelRuntime ?? ChannelRuntime(http: ProviderHTTP(
            client: ProviderHTTP.sharedClient, targets: NetworkTargetPolicy(allowsPrivateTargets: configuration.allowPrivateTargets)))
        self.configuration = configuration
        self.database = database
        self.clock = clock
        self.passwords = PasswordHasher(cost: configuration.bcryptCost)
        self.metrics = metrics
        self.logger = logger
        self.eventHub = EventHub(inbox: InboxRepository(database: database), metrics: RealtimeMetrics(registry: metrics))
    }
}
