import Foundation
import Logging
import ParleyCore
import ParleyStore

/// Fans events and signals out to this instance's WebSocket clients. The pump (see
/// ``RealtimeService``) reads each new event once, and the hub gives the same encoded frame to
/// every client allowed to see it; a client's own replay covers what came before it connected.
public actor EventHub {
    let inbox: InboxRepository
    let metrics: RealtimeMetrics
    let instance = UUID().uuidString
    /// Frames a client may fall behind by before it is closed with its resume id.
    let clientCapacity: Int
    var bus: (any EventBus)?

    /// The last event delivered live; a new client's replay runs at least this far.
    private(set) var position = EventPosition.start
    private var subscribers: [Int64: [UInt64: EventSubscriber]] = [:]
    private var nextId: UInt64 = 0
    private var counts = CountsCache()
    let presence = PresenceBook()
    /// Website chat visitors connected to this instance.
    let visitors = VisitorRegistry()

    init(inbox: InboxRepository, metrics: RealtimeMetrics, clientCapacity: Int = 1024) {
        self.inbox = inbox
        self.metrics = metrics
        self.clientCapacity = clientCapacity
    }

    private let started = StartGate()

    func start(at position: EventPosition, bus: any EventBus) {
        self.position = position
        self.bus = bus
        started.open()
    }

    /// Adds a client; it receives every live event after the returned position. A client that
    /// arrives while the server is still starting waits for the stream's first position.
    func register(user: User, seesAll: Bool) async -> (EventSubscriber, EventPosition) {
        await started.wait()
        nextId += 1
        let subscriber = EventSubscriber(id: nextId, user: user, seesAll: seesAll, capacity: clientCapacity)
        subscribers[user.workspaceId, default: [:]][subscriber.id] = subscriber
        metrics.clients.increment()
        if presence.connected(user: user) { await publish(presence: user, online: true) }
        return (subscriber, position)
    }

    func unregister(_ subscriber: EventSubscriber) async {
        guard subscribers[subscriber.workspaceId]?.removeValue(forKey: subscriber.id) != nil else { return }
        if subscribers[subscriber.workspaceId]?.isEmpty == true { subscribers[subscriber.workspaceId] = nil }
        subscriber.finish()
        metrics.clients.decrement()
        if presence.disconnected(user: subscriber.user) { await publish(presence: subscriber.user, online: false) }
    }

    /// Delivers a batch read from the feed, then advances to `end` (the batch's last position,
    /// even when some of its events had nothing left to show).
    func deliver(_ events: [HydratedEvent], through end: EventPosition) async {
        let now = Date()
        for event in events {
            let clients = subscribers[event.workspaceId] ?? [:]
            if let seesAll = event.agentsSeeAll {
                for client in clients.values where client.user.role == .agent { client.setSeesAll(seesAll) }
            }
            if let visitor = event.visitor { visitors.deliver(visitor) }
            let frame = OutboundFrame(position: event.position, text: event.frame)
            var count = 0
            for client in clients.values where client.mayReceive(event) {
                client.offer(frame)
                count += 1
            }
            metrics.delivered.increment(by: Int64(count))
            metrics.lag.record(.milliseconds(max(0, Int64(now.timeIntervalSince(event.createdAt) * 1000))))
        }
        if end > position { position = end }
        let changed = Set(events.filter(\.changesCounts).map(\.workspaceId))
        for workspaceId in changed { counts.invalidate(workspaceId) }
        for workspaceId in changed.sorted() where subscribers[workspaceId] != nil {
            await sendCounts(workspaceId: workspaceId)
        }
    }

    /// Each client of the workspace gets its own All / Mine / Unassigned counts.
    func sendCounts(workspaceId: Int64, only: EventSubscriber? = nil) async {
        let generation = counts.generation(of: workspaceId)
        guard let tally = await currentCounts(workspaceId: workspaceId) else { return }
        // Counts changed while these were read: the broadcast that follows the change carries
        // newer ones to every client, this one included, and must not be overtaken by these.
        if only != nil, counts.generation(of: workspaceId) != generation { return }
        let clients = only.map { [$0] } ?? Array((subscribers[workspaceId] ?? [:]).values)
        for client in clients {
            let view = CountsView(tally, userId: client.user.id, seesAll: client.seesAll)
            client.offer(OutboundFrame(position: nil, text: FrameText.signal("counts", view)))
        }
    }

    /// The workspace's counts, read once for every caller that asks before they change (see
    /// ``CountsCache``): clients that connect together (a server restart, a reconnect storm)
    /// share one query instead of each scanning the open conversations.
    private func currentCounts(workspaceId: Int64) async -> InboxCounts? {
        if let pending = counts.pending(workspaceId, now: .now) { return await pending.value }
        let inbox = inbox
        let reading = Task { try? await inbox.counts(workspaceId: workspaceId) }
        metrics.countsReads.increment()
        counts.store(reading, for: workspaceId, now: .now)
        let result = await reading.value
        // A failed read is not shared: the next caller tries again.
        if result == nil { counts.forget(workspaceId) }
        return result
    }

    // MARK: Signals

    func typing(from subscriber: EventSubscriber, contactId: Int64, typing: Bool) async {
        await bus?.publish(RealtimeSignal(kind: .typing, instance: instance, workspaceId: subscriber.workspaceId, userId: subscriber.user.id,
                                          userName: subscriber.user.name, contactId: contactId, active: typing))
    }

    func receive(_ signal: RealtimeSignal) {
        switch signal.kind {
        case .typing:
            guard let contactId = signal.contactId else { return }
            let frame = OutboundFrame(position: nil, text: FrameText.signal("typing", FramePayload.Typing(
                contactId: contactId, user: .init(id: signal.userId, name: signal.userName), typing: signal.active, expiresInSeconds: 6)))
            for client in (subscribers[signal.workspaceId] ?? [:]).values where client.user.id != signal.userId {
                client.offer(frame)
            }
            deliverToVisitors(typing: signal, contactId: contactId)
        case .visitorTyping:
            guard let contactId = signal.contactId else { return }
            let frame = OutboundFrame(position: nil, text: FrameText.signal("typing", FramePayload.Typing(
                contactId: contactId, user: .init(id: 0, name: signal.userName), typing: signal.active, expiresInSeconds: 6, visitor: true)))
            for client in (subscribers[signal.workspaceId] ?? [:]).values { client.offer(frame) }
        case .presence:
            if presence.record(signal, now: .now) { broadcastPresence(workspaceId: signal.workspaceId) }
        }
    }

    /// Re-announces this instance's users and forgets instances that stopped announcing.
    func heartbeat() async {
        for user in presence.localUsers {
            await publish(presence: user, online: true)
        }
        for workspaceId in presence.expire(now: .now) { broadcastPresence(workspaceId: workspaceId) }
    }

    func online(workspaceId: Int64) -> [ConversationsController.Reference] {
        presence.online(workspaceId: workspaceId).map { .init(id: $0.id, name: $0.name) }
    }

    func presenceFrame(workspaceId: Int64) -> OutboundFrame {
        OutboundFrame(position: nil, text: FrameText.signal("presence", FramePayload.Presence(online: online(workspaceId: workspaceId))))
    }

    private func broadcastPresence(workspaceId: Int64) {
        let frame = presenceFrame(workspaceId: workspaceId)
        for client in (subscribers[workspaceId] ?? [:]).values { client.offer(frame) }
    }

    private func publish(presence user: User, online: Bool) async {
        await bus?.publish(RealtimeSignal(kind: .presence, instance: instance, workspaceId: user.workspaceId, userId: user.id,
                                          userName: user.name, contactId: nil, active: online))
    }

    /// Ends every client's queue; their sessions close with the id to resume from.
    /// WebSocket clients still connected to this instance (a shutdown waits for none).
    var clientCount: Int { subscribers.values.reduce(0) { $0 + $1.count } }

    func closeAll() {
        visitors.closeAll()
        for clients in subscribers.values {
            for client in clients.values { client.finish() }
        }
    }
}
