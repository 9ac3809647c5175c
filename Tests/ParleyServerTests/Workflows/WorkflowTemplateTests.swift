import Foundation
import ParleyCore
import ParleyServer
import ParleySimulator
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// Each ready-made workflow end to end: contacts write through the provider simulator
/// (Telegram), the engine and the outbox run, and a local server stands in for the CRM.
@Suite("Workflow templates")
struct WorkflowTemplateTests {
    /// A Telegram chat of the simulator that writes to the connected channel.
    struct Chat {
        let api: APIHarness
        let simulator: ProviderSimulator
        let channel: Int64
        let secret: String
        let chatId: Int64
        let name: String

        func says(_ text: String, id: Int) async throws {
            let update = simulator.telegramUpdate(chatId: chatId, messageId: id, text: text, firstName: name, at: api.clock.now(), secret: secret)
            #expect(try await api.webhook(channel, update).status == .ok)
        }

        /// What Parley sent to this chat through the provider, in order.
        var received: [String] {
            simulator.requests(.telegram).filter { $0.path.hasSuffix("/sendMessage") && "\($0.json["chat_id"] ?? "")" == String(chatId) }
                .compactMap { $0.json["text"] as? String }
        }
    }

    static func chats(_ api: APIHarness, _ simulator: ProviderSimulator, names: [String]) async throws -> [Chat] {
        let channel = try await TelegramChannelTests.connect(api, simulator)
        let secret = try #require(simulator.telegramWebhook(token: TelegramChannelTests.token)).secret
        return names.enumerated().map { Chat(api: api, simulator: simulator, channel: channel, secret: secret, chatId: Int64(700 + $0.offset), name: $0.element) }
    }

    /// Engine and outbox until both are idle.
    static func settle(_ api: APIHarness) async throws {
        let outbox = OutboxWorker(services: api.services)
        for _ in 0..<20 {
            try await api.settleWorkflows()
            if try await outbox.runOnce() == 0 { return }
        }
    }

    @Test(arguments: TestBackend.all)
    func vipContactsGoToTheVIPTeamByTagOrByTheCRM(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let crm = StandInServer { request, _ in
                    // The CRM knows Ana as a VIP.
                    request.path.hasSuffix("/ana") ? (200, #"{"vip": true}"#) : (200, #"{"vip": false}"#)
                }
                try await crm.run { base in
                    let team = [try await api.user(.agent).id, try await api.user(.agent).id]
                    let workflow = try await api.template("vip_routing", options: ["userIds": team, "crmUrl": "\(base)/customers/{{contact.firstName}}"])
                    let chats = try await Self.chats(api, simulator, names: ["ana", "bruno"])
                    try await chats[0].says("Hello", id: 1)
                    try await chats[1].says("Hi there", id: 1)
                    // A contact tagged VIP by an agent, whom the CRM does not know.
                    let tagged = try await api.newContact("carla", tags: ["vip"])
                    try await api.openConversation(tagged)
                    try await Self.settle(api)
                    #expect(try await api.assignee(try await api.contact(externalId: "700")) == team[0])
                    #expect(try await api.assignee(try await api.contact(externalId: "701")) == nil)
                    #expect(try await api.assignee(tagged) == team[1])
                    #expect(crm.requests.map(\.path).sorted() == ["/customers/ana", "/customers/bruno", "/customers/carla"])
                    let runs = try await api.runs(workflow)
                    #expect(runs.count == 3)
                    #expect(runs.allSatisfy { $0["status"] as? String == "completed" })
                }
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func newAndReturningContactsGoToTheirTeams(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let fresh = try await api.user(.agent).id
                let returning = try await api.user(.agent).id
                _ = try await api.template("new_vs_returning", options: ["userIds": [fresh], "returningUserIds": [returning]])
                let chat = try #require(try await Self.chats(api, simulator, names: ["dora"]).first)
                try await chat.says("First time here", id: 1)
                try await Self.settle(api)
                let contact = try await api.contact(externalId: "700")
                #expect(try await api.assignee(contact) == fresh)
                try await api.closeConversation(contact)
                try await chat.says("Me again", id: 2)
                try await Self.settle(api)
                #expect(try await api.assignee(contact) == returning)
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func csatAfterCloseAsksAgainOnceStoresTheRatingAndPostsIt(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            try await api.withSimulator { simulator in
                let sheet = StandInServer()
                try await sheet.run { base in
                    let workflow = try await api.template("csat_after_close", options: ["postUrl": "\(base)/csat"])
                    let chat = try #require(try await Self.chats(api, simulator, names: ["eva"]).first)
                    try await chat.says("Where is my order?", id: 1)
                    try await Self.settle(api)
                    let contact = try await api.contact(externalId: "700")
                    try await api.closeConversation(contact)
                    try await Self.settle(api)
                    #expect(chat.received == ["How would you rate the help you got? Reply with a number from 1 (poor) to 5 (excellent)."])
                    let closed = try await api.send(.get, "/api/v1/contacts/\(contact)/conversation")
                    #expect(closed.json["status"] as? String == "closed")

                    try await chat.says("great!", id: 2)
                    try await Self.settle(api)
                    #expect(chat.received.last == "Sorry, I need a single number from 1 to 5.")
                    try await chat.says("4", id: 3)
                    try await Self.settle(api)
                    #expect(chat.received.count == 3)
                    #expect(chat.received.last == "Thank you for your feedback!")
                    #expect((try await api.contactJSON(contact)["customFields"] as? [String: Any])?["csat"] as? Double == 4)
                    let posted = try #require(sheet.requests.first)
                    #expect(sheet.requests.count == 1)
                    #expect(posted.method == "POST")
                    let body = try #require(try JSONSerialization.jsonObject(with: Data(posted.body.utf8)) as? [String: Any])
                    #expect(body["rating"] as? Int == 4)
                    #expect((body["contactId"] as? NSNumber)?.int64Value == contact)
                    #expect(body["channel"] as? String == "telegram")
                    let run = try #require(try await api.runs(workflow).first)
                    #expect(run["status"] as? String == "completed")
                    let log = (run["steps"] as? [[String: Any]] ?? []).map { "\($0["stepId"] ?? ""):\($0["outcome"] ?? "")" }
                    #expect(log == ["ask:waiting", "ask:waiting", "ask:succeeded", "answered:true", "post:succeeded", "thanks:succeeded"])
                    // The workflow's messages are sent as the workflow, never as an agent.
                    let senders = try await api.services.database.read { db in
                        try await db.raw("SELECT sender_kind FROM messages WHERE direction = 'outbound'").all().map { try $0.decode(column: "sender_kind", as: String.self) }
                    }
                    #expect(senders == ["workflow", "workflow", "workflow"])
                }
            }
        }
    }

    @Test(arguments: TestBackend.all)
    func unassignAfterClose(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let agent = try await api.user(.agent).id
            let workflow = try await api.template("unassign_after_close")
            let contact = try await api.newContact("Fede")
            try await api.openConversation(contact)
            #expect(try await api.send(.put, "/api/v1/contacts/\(contact)/conversation/assignee", json: ["userId": agent]).status == .ok)
            try await api.settleWorkflows()
            #expect(try await api.assignee(contact) == agent)
            try await api.closeConversation(contact)
            try await api.settleWorkflows()
            #expect(try await api.assignee(contact) == nil)
            #expect(try await api.runs(workflow).first?["status"] as? String == "completed")
        }
    }
}
