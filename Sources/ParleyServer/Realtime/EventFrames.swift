import Foundation
import ParleyCore
import ParleyStore

/// A stored event as the stream sends it: `{"id","type","at","data"}`.
struct EventFrame<Payload: Encodable & Sendable>: Encodable, Sendable {
    let id: Int64
    let type: String
    let at: Date
    let data: Payload
}

/// An ephemeral frame (not stored, no id): hello, ready, reset, counts, typing, presence, error, pong.
struct SignalFrame<Payload: Encodable & Sendable>: Encodable, Sendable {
    let type: String
    let data: Payload?
}

enum FramePayload {
    struct MessageChange: Encodable, Sendable {
        let contactId: Int64
        let message: Message
        let conversation: ConversationsController.Row?
    }

    struct ConversationChange: Encodable, Sendable {
        let contactId: Int64
        let conversation: ConversationsController.Row?
        /// The timeline line this change adds (opened, closed, assigned); null for read/unread.
        let activity: Activity?
    }

    struct Activity: Encodable, Sendable {
        let conversationId: Int64
        let kind: String
        let actor: ConversationsController.Reference?
        let details: JSONValue
    }

    struct ContactChange: Encodable, Sendable {
        let contactId: Int64
        let contact: ContactsController.ContactResponse?
    }

    struct Subject: Encodable, Sendable {
        let subjectId: Int64?
    }

    struct Position: Encodable, Sendable {
        let after: Int64
    }

    struct Failure: Encodable, Sendable {
        let code: String
        let message: String
    }

    struct Typing: Encodable, Sendable {
        let contactId: Int64
        let user: ConversationsController.Reference
        let typing: Bool
        /// Clients drop the indicator after this long without a new signal.
        let expiresInSeconds: Int
        /// The contact (a website chat visitor) is typing, not a user.
        var visitor = false
    }

    struct Presence: Encodable, Sendable {
        let online: [ConversationsController.Reference]
    }
}

enum FrameText {
    static func encode(_ value: some Encodable) -> String {
        // Every frame is built from Parley's own Encodable types, which always encode.
        (try? String(decoding: JSONEncoder.api.encode(value), as: UTF8.self)) ?? #"{"type":"error","data":{"code":"encoding","message":"frame could not be encoded"}}"#
    }

    static func signal<Payload: Encodable & Sendable>(_ type: String, _ data: Payload?) -> String {
        encode(SignalFrame(type: type, data: data))
    }

    static func signal(_ type: String) -> String {
        encode(SignalFrame<FramePayload.Subject>(type: type, data: nil))
    }
}
