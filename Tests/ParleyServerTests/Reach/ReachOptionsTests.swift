import Foundation
import Hummingbird
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Other ways to reach a contact, and closing-soon reminders.
@Suite("Reaching contacts: other channels and reminders")
struct ReachOptionsTests {
    static let hour: TimeInterval = 3600

    @Test(arguments: TestBackend.all)
    func aWhatsAppContactPast24HoursIsOfferedSMSWithFreeText(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let (whatsapp, contact) = try await api.contactOn(.whatsapp, wroteAgo: 30 * Self.hour, name: "Rosa Martínez", externalId: "5215512345678")
            let sms = try await api.services.channels.create(workspaceId: 1, kind: .sms, name: "Support line", credentials: [:], apiBaseUrl: nil,
                                                             actorUserId: nil, at: api.clock.now())
            let email = try await api.services.channels.create(workspaceId: 1, kind: .email, name: "Mail", credentials: [:], apiBaseUrl: nil,
                                                               actorUserId: nil, at: api.clock.now())
            let instagram = try await api.services.channels.create(workspaceId: 1, kind: .instagram, name: "IG", credentials: [:], apiBaseUrl: nil,
                                                                   actorUserId: nil, at: api.clock.now())
            for (channel, address) in [(sms.id, "+5215512345678"), (email.id, "rosa@example.com"), (instagram.id, "IGSID-ROSA")] {
                let added = try await api.send(.post, "/api/v1/contacts/\(contact)/identities", json: ["channelId": channel, "externalId": address])
                #expect(added.status == .created, "\(added.text)")
            }

            let composer = try await api.send(.get, "/api/v1/contacts/\(contact)/composer?channel=\(whatsapp.id)")
            #expect(composer.json["allowed"] as? [String] == ["template"])
            #expect(composer.json["canQueue"] as? Bool == true)
            let options = composer.json["alternatives"] as? [[String: Any]] ?? []
            // Free text first (SMS and email, by channel id), Instagram (never written) last.
            #expect(options.map { $0["channelType"] as? String } == ["sms", "email", "instagram"])
            #expect(options.map { $0["summary"] as? String } == ["free text", "free text", "nothing now"])
            #expect(options.map { $0["best"] as? Bool } == [true, false, false])
            #expect(options.first?["channelName"] as? String == "Support line")

            // The workspace's preference orders channels that allow the same.
            let patched = try await api.send(.patch, "/api/v1/workspace/settings", json: ["channelPreference": ["email", "sms"]])
            #expect(patched.json["channelPreference"] as? [String] == ["email", "sms"])
            let preferred = try await api.send(.get, "/api/v1/contacts/\(contact)/composer?channel=\(whatsapp.id)").json["alternatives"] as? [[String: Any]] ?? []
            #expect(preferred.map { $0["channelType"] as? String } == ["email", "sms", "instagram"])
            #expect(preferred.first?["best"] as? Bool == true)
            let twice = try await api.send(.patch, "/api/v1/workspace/settings", json: ["channelPreference": ["sms", "sms"]])
            #expect(twice.status == .badRequest)
            #expect(try await api.send(.patch, "/api/v1/workspace/settings", json: ["channelPreference": ["fax"]]).status == .badRequest)

            // The SMS offered really takes free text now.
            let sent = try await api.send(contact, ["channelId": sms.id, "text": "Hi Rosa, your order shipped"])
            #expect(sent.status == .created, "\(sent.text)")
        }
    }

    @Test(arguments: TestBackend.all)
    func aReminderFiresOnceBeforeTheWindowCloses(backend: TestBackend) async throws {
        try await LiveHarness.run(backend) { live in
            let api = live.api
            // WhatsApp: the contact wrote 20 hours ago, so the window closes in 4 hours.
            let (_, contact) = try await api.contactOn(.whatsapp, wroteAgo: 20 * Self.hour, name: "Lucía Gómez")
            let agent = try await api.user(.agent)
            let other = try await api.user(.agent)
            let stream = try await live.stream(token: agent.token)
            _ = try await stream.next("ready")
            let otherStream = try await live.stream(token: other.token)
            _ = try await otherStream.next("ready")

            #expect(try await api.send(.post, "/api/v1/contacts/\(contact)/reminders", token: agent.token, json: ["hoursBefore": 0]).status == .badRequest)
            let set = try await api.send(.post, "/api/v1/contacts/\(contact)/reminders", token: agent.token, json: ["hoursBefore": 2])
            #expect(set.status == .created, "\(set.text)")
            let due = try #require(MessagesControllerDates.parse(set.json["dueAt"] as? String ?? ""))
            #expect(abs(due.timeIntervalSince(api.clock.now()) - 2 * Self.hour) < 1)
            #expect(try await api.send(.get, "/api/v1/reminders", token: agent.token).items.count == 1)
            #expect(try await api.send(.get, "/api/v1/reminders", token: other.token).items.isEmpty)

            let worker = ReachWorker(services: api.services)
            api.clock.advance(by: 2 * Self.hour - 60)
            try await worker.runOnce()
            #expect(try await api.send(.get, "/api/v1/notifications", token: agent.token).items.isEmpty)

            api.clock.advance(by: 61)
            try await worker.runOnce()
            try await worker.runOnce()
            let notes = try await api.send(.get, "/api/v1/notifications", token: agent.token).items
            #expect(notes.count == 1)
            let text = notes.first?["text"] as? String ?? ""
            #expect(text.contains("Lucía Gómez"), "\(text)")
            #expect(text.contains("closes in 1 hour 59 minutes"), "\(text)")
            let frame = try await stream.next("notification.created")
            #expect(frame.data["text"] as? String == text)
            #expect(try await api.send(.get, "/api/v1/notifications", token: other.token).items.isEmpty)
            #expect(try await api.send(.get, "/api/v1/reminders", token: agent.token).items.isEmpty)

            let id = try #require((notes.first?["id"] as? NSNumber)?.int64Value)
            #expect(try await api.send(.post, "/api/v1/notifications/\(id)/read", token: other.token).status == .notFound)
            let read = try await api.send(.post, "/api/v1/notifications/\(id)/read", token: agent.token)
            #expect(read.json["readAt"] is String)
            #expect(try await api.send(.get, "/api/v1/notifications?unread=true", token: agent.token).items.isEmpty)
            // The other agent's stream carried nothing of it: its next event is one everybody gets.
            _ = try await api.send(.post, "/api/v1/contacts", json: ["firstName": "Marker"])
            var seen: [String] = []
            while seen.last != "contact.created" { seen.append(try await otherStream.next()["type"] as? String ?? "") }
            #expect(!seen.contains("notification.created"), "\(seen)")
            await stream.close()
            await otherStream.close()
        }
    }

    @Test(arguments: TestBackend.all)
    func aReminderFollowsTheWindowAndIsRefusedWithoutOne(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let (channel, contact) = try await api.contactOn(.whatsapp, wroteAgo: 20 * Self.hour, externalId: "5215500000001")
            let set = try await api.send(.post, "/api/v1/contacts/\(contact)/reminders", json: ["hoursBefore": 2])
            #expect(set.status == .created)
            // The contact writes again: the window, and the reminder, move 20 hours later.
            _ = try await api.contactOn(.whatsapp, wroteAgo: 0, channel: channel, externalId: "5215500000001")
            api.clock.advance(by: 2 * Self.hour + 60)
            try await ReachWorker(services: api.services).runOnce()
            #expect(try await api.send(.get, "/api/v1/notifications").items.isEmpty)
            #expect(try await api.send(.get, "/api/v1/reminders").items.count == 1)

            let (_, telegram) = try await api.contactOn(.telegram, wroteAgo: Self.hour)
            let none = try await api.send(.post, "/api/v1/contacts/\(telegram)/reminders", json: ["hoursBefore": 2])
            #expect(none.status == .unprocessableContent)
            #expect(none.errorCode == "no_window")
            let (_, closed) = try await api.contactOn(.whatsapp, wroteAgo: 30 * Self.hour)
            #expect(try await api.send(.post, "/api/v1/contacts/\(closed)/reminders", json: ["hoursBefore": 2]).errorCode == "window_closed")
            #expect(try await api.count("window_reminders") == 1)

            let id = try #require((set.json["id"] as? NSNumber)?.int64Value)
            let agent = try await api.user(.agent)
            #expect(try await api.send(.delete, "/api/v1/reminders/\(id)", token: agent.token).status == .notFound)
            #expect(try await api.send(.delete, "/api/v1/reminders/\(id)").status == .noContent)
            #expect(try await api.count("window_reminders") == 0)
        }
    }
}
