import Foundation
import ParleyCore
import ParleyStore
import Synchronization

/// A message as a visitor sees it: theirs or the team's, never the team's internals.
struct VisitorMessage: Encodable, Sendable, Equatable {
    let id: Int64
    /// `visitor` or `agent`.
    let from: String
    let text: String
    let at: Date
    let status: DeliveryStatus
    /// The agent's name on the team's messages.
    let author: String?
    /// The message's files, each with a signed link valid for an hour.
    let attachments: [VisitorAttachment]?

    /// `names`: the workspace's user names by id; the visitor sees only the sender's first name.
    init(_ message: Message, names: [Int64: String], now: Date = Date()) {
        attachments = message.attachments.map { files in
            files.map { VisitorAttachment($0, expires: now.addingTimeInterval(AttachmentLinks.readerLifetime)) }
        }
        id = message.id
        from = message.direction == .inbound ? "visitor" : "agent"
        text = message.text ?? ""
        at = message.createdAt
        status = message.status
        author = message.direction == .inbound ? nil : message.senderUserId.flatMap { names[$0] }.map(Self.firstName)
    }

    /// How an agent is named to visitors: "Ana" for "Ana Núñez".
    static func firstName(_ name: String) -> String {
        name.split(separator: " ").first.map(String.init) ?? name
    }
}

/// A file as the widget shows it: what it is, and a signed link (no session: the visitor has none).
struct VisitorAttachment: Encodable, Sendable, Equatable {
    let id: Int64
    let kind: AttachmentKind
    let status: AttachmentStatus
    let fileName: String
    let contentType: String?
    let size: Int64?
    let url: String?

    init(_ file: Attachment, expires: Date) {
        id = file.id
        kind = file.kind
        status = file.status
        fileName = file.fileName
        contentType = file.contentType
        size = file.size
        url = file.status == .stored ? file.signingKey.map { AttachmentLinks.path(id: file.id, key: $0, expires: expires) } : nil
    }
}

/// What one stored event means to the visitor it concerns.
struct VisitorDelivery: Sendable {
    let channelId: Int64
    let externalId: String
    let contactId: Int64
    let frame: String
}

/// One visitor's open widget (a tab): a bounded queue of frames, written by its session.
final class VisitorSubscriber: Sendable {
    let id: UInt64
    let workspaceId: Int64
    let channelId: Int64
    let externalId: String
    let frames: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation
    private let contact: Mutex<Int64?>
    private let lastTyping = Mutex<ContinuousClock.Instant?>(nil)

    init(id: UInt64, workspaceId: Int64, channelId: Int64, externalId: String, contactId: Int64?, capacity: Int = 256) {
        self.id = id
        self.workspaceId = workspaceId
        self.channelId = channelId
        self.externalId = externalId
        contact = Mutex(contactId)
        (frames, continuation) = AsyncStream.makeStream(of: String.self, bufferingPolicy: .bufferingOldest(capacity))
    }

    var key: String { "\(channelId)|\(externalId)" }
    var contactId: Int64? { contact.withLock { $0 } }

    func learn(contactId: Int64) -> Bool {
        contact.withLock { current in
            defer { current = contactId }
            return current != contactId
        }
    }

    /// A visitor too slow to take its frames is closed; the widget reconnects and reloads.
    func offer(_ frame: String) {
        if case .dropped = continuation.yield(frame) { continuation.finish() }
    }

    func finish() { continuation.finish() }

    /// "Started typing" at most once a second.
    func allowTypingSignal(now: ContinuousClock.Instant) -> Bool {
        lastTyping.withLock { last in
            if let previous = last, now - previous < .seconds(1) { return false }
            last = now
            return true
        }
    }
}

/// This instance's connected visitors, by their address on a channel and by contact.
final class VisitorRegistry: Sendable {
    private struct State {
        var nextId: UInt64 = 0
        var byAddress: [String: [UInt64: VisitorSubscriber]] = [:]
        var byContact: [Int64: [UInt64: VisitorSubscriber]] = [:]
    }

    private let state = Mutex(State())

    var count: Int { state.withLock { $0.byAddress.values.reduce(0) { $0 + $1.count } } }

    func register(workspaceId: Int64, channelId: Int64, externalId: String, contactId: Int64?) -> VisitorSubscriber {
        state.withLock { state in
            state.nextId += 1
            let subscriber = VisitorSubscriber(id: state.nextId, workspaceId: workspaceId, channelId: channelId, externalId: externalId,
                                               contactId: contactId)
            state.byAddress[subscriber.key, default: [:]][subscriber.id] = subscriber
            if let contactId { state.byContact[contactId, default: [:]][subscriber.id] = subscriber }
            return subscriber
        }
    }

    func unregister(_ subscriber: VisitorSubscriber) {
        state.withLock { state in
            state.byAddress[subscriber.key]?[subscriber.id] = nil
            if state.byAddress[subscriber.key]?.isEmpty == true { state.byAddress[subscriber.key] = nil }
            if let contactId = subscriber.contactId {
                state.byContact[contactId]?[subscriber.id] = nil
                if state.byContact[contactId]?.isEmpty == true { state.byContact[contactId] = nil }
            }
        }
        subscriber.finish()
    }

    /// Gives the frame to every tab of the visitor; a visitor's first message tells their tabs
    /// which contact they became.
    func deliver(_ delivery: VisitorDelivery) {
        let subscribers = state.withLock { state -> [VisitorSubscriber] in
            let found = Array((state.byAddress["\(delivery.channelId)|\(delivery.externalId)"] ?? [:]).values)
            for subscriber in found where subscriber.learn(contactId: delivery.contactId) {
                state.byContact[delivery.contactId, default: [:]][subscriber.id] = subscriber
            }
            return found
        }
        for subscriber in subscribers { subscriber.offer(delivery.frame) }
    }

    /// Every tab of the visitors who are this contact.
    func subscribers(contactId: Int64, workspaceId: Int64) -> [VisitorSubscriber] {
        state.withLock { state in
            (state.byContact[contactId] ?? [:]).values.filter { $0.workspaceId == workspaceId }
        }
    }

    func closeAll() {
        let all = state.withLock { $0.byAddress.values.flatMap(\.values) }
        for subscriber in all { subscriber.finish() }
    }
}
