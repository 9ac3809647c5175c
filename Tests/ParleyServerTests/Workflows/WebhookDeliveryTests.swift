import Crypto
import Foundation
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// Outgoing webhooks: signed, retried with backoff until the receiver takes them, logged with
/// response codes, and replayable.
@Suite("Outgoing webhooks")
struct WebhookDeliveryTests {
    @Test(arguments: TestBackend.all)
    func aDeliveryThatFailsTwiceArrivesOnTheThirdTryWithAValidSignature(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            // The receiver is down for the first two attempts.
            let receiver = StandInServer { _, index in index <= 2 ? (500, #"{"error":"down"}"#) : (200, "{}") }
            try await receiver.run { base in
                let refused = try await api.send(.post, "/api/v1/webhook-subscriptions", json: ["url": "\(base)/hook", "events": ["conversation.teleported"]])
                #expect(refused.status == .badRequest)
                #expect(refused.errorField == "events")
                let created = try await api.send(.post, "/api/v1/webhook-subscriptions", json: ["url": "\(base)/hook", "events": ["conversation.opened"]])
                #expect(created.status == .created, "\(created.text)")
                let id = try #require((created.json["id"] as? NSNumber)?.int64Value)
                let secret = try #require(created.json["secret"] as? String)
                #expect(try await api.send(.get, "/api/v1/webhook-subscriptions").items.first?["secret"] == nil)

                let contact = try await api.newContact("Gil")
                try await api.openConversation(contact)
                try await api.settleWorkflows()
                #expect(receiver.requests.count == 1)
                api.clock.advance(by: 1.9)
                try await api.settleWorkflows()
                #expect(receiver.requests.count == 1)
                api.clock.advance(by: 0.1)
                try await api.settleWorkflows()
                #expect(receiver.requests.count == 2)
                api.clock.advance(by: 4)
                try await api.settleWorkflows()
                #expect(receiver.requests.count == 3)

                let delivery = try #require(try await api.send(.get, "/api/v1/webhook-subscriptions/\(id)/deliveries").items.first)
                #expect(delivery["status"] as? String == "delivered")
                #expect(delivery["attempts"] as? Int == 3)
                #expect(delivery["responseCode"] as? Int == 200)

                let last = try #require(receiver.requests.last)
                let signature = try #require(last.headers["x-parley-signature"])
                let parts = Dictionary(uniqueKeysWithValues: signature.split(separator: ",").compactMap { pair -> (String, String)? in
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
                })
                let timestamp = try #require(parts["t"])
                let mac = HMAC<SHA256>.authenticationCode(for: Data("\(timestamp).\(last.body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
                #expect(parts["v1"] == mac.map { String(format: "%02x", $0) }.joined())
                let body = try #require(try JSONSerialization.jsonObject(with: Data(last.body.utf8)) as? [String: Any])
                #expect(body["type"] as? String == "conversation.opened")
                #expect(((body["data"] as? [String: Any])?["contactId"] as? NSNumber)?.int64Value == contact)

                let deliveryId = try #require((delivery["id"] as? NSNumber)?.int64Value)
                let replayed = try await api.send(.post, "/api/v1/webhook-deliveries/\(deliveryId)/replay")
                #expect(replayed.status == .ok, "\(replayed.text)")
                try await api.settleWorkflows()
                #expect(receiver.requests.count == 4)
                #expect(receiver.requests.last?.body == last.body)
            }
        }
    }
}
