import Foundation
@testable import ParleyStore
import Testing

/// Payloads of ids are formatted without the JSON encoder, and must read exactly as its text.
@Suite("Event payloads")
struct EventPayloadTests {
    @Test func idsAreWrittenAsTheStoreEncoderWritesThem() throws {
        let payloads: [[String: Int64]] = [
            [:],
            ["messageId": 7],
            ["messageId": 7, "contactId": -3, "conversationId": Int64.max],
            ["userId": 1, "previousAssigneeId": Int64.min, "contactId": 0, "a_b": 2, "B2": 5, "b1": 4],
        ]
        for payload in payloads {
            let encoded = String(decoding: try JSONEncoder.store.encode(payload), as: UTF8.self)
            #expect(EventLog.idsText(payload) == encoded)
            #expect(try EventLog.payloadText(payload) == encoded)
        }
    }

    @Test func keysJSONWouldEscapeGoThroughTheEncoder() throws {
        for key in ["quote\"", "slash/", "back\\slash", "ü", "new\nline", ""] {
            let payload: [String: Int64] = [key: 1, "messageId": 2]
            #expect(EventLog.idsText(payload) == nil)
            let text = try EventLog.payloadText(payload)
            #expect(text == String(decoding: try JSONEncoder.store.encode(payload), as: UTF8.self))
            #expect(try JSONDecoder().decode([String: Int64].self, from: Data(text.utf8)) == payload)
        }
    }
}
