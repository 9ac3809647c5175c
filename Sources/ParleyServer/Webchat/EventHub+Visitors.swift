import Foundation
import ParleyCore
import ParleyStore

/// Frames a visitor's widget receives: `message`, `typing`, `ready`, `error`, `pong`.
enum VisitorFrames {
    struct Typing: Encodable, Sendable {
        let typing: Bool
        let name: String
    }

    struct Ready: Encodable, Sendable {
        let unread: Int
    }
}

extension EventHub {
    /// An agent's typing reaches the visitor's widget too (only the agent's first name).
    nonisolated func deliverToVisitors(typing signal: RealtimeSignal, contactId: Int64) {
        let tabs = visitors.subscribers(contactId: contactId, workspaceId: signal.workspaceId)
        guard !tabs.isEmpty else { return }
        let frame = FrameText.signal("typing", VisitorFrames.Typing(typing: signal.active, name: VisitorMessage.firstName(signal.userName)))
        for tab in tabs { tab.offer(frame) }
    }

    /// A visitor's typing goes to the workspace's agents on every instance.
    func visitorTyping(workspaceId: Int64, contactId: Int64, name: String, typing: Bool) async {
        await bus?.publish(RealtimeSignal(kind: .visitorTyping, instance: instance, workspaceId: workspaceId, userId: 0,
                                          userName: name, contactId: contactId, active: typing))
    }
}

extension EventHydrator {
    /// Adds, to each message event of a website chat visitor, the frame their widget receives.
    /// Two small queries per batch, and only when the batch has messages.
    func withVisitorFrames(_ events: [HydratedEvent], messages: [Int64: Message], workspaceId: Int64) async throws -> [HydratedEvent] {
        guard !messages.isEmpty else { return events }
        let addresses = try await services.webchat.visitorAddresses(identityIds: messages.values.map(\.identityId))
        guard !addresses.isEmpty else { return events }
        let senders = messages.values.filter { addresses[$0.identityId] != nil }.compactMap(\.senderUserId)
        let names = try await services.users.names(ids: Array(Set(senders)), workspaceId: workspaceId)
        var result = events
        for index in result.indices where result[index].type == .messageCreated || result[index].type == .messageUpdated {
            guard let id = result[index].subjectId, let message = messages[id],
                  let address = addresses[message.identityId] else { continue }
            result[index].visitor = VisitorDelivery(channelId: address.channelId, externalId: address.externalId, contactId: message.contactId,
                                                    frame: FrameText.signal("message", VisitorMessage(message, names: names)))
        }
        return result
    }
}
