import Foundation
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import SQLKit
import Testing

/// A workflow's messages obey the window policy as an automated sender: never tagged as a
/// human agent's, and a refused send fails the step with the reason.
@Suite("Workflow messages")
struct WorkflowMessagingTests {
    @Test(arguments: TestBackend.all)
    func aWorkflowIsNotAHumanAgentAndARefusedSendFailsTheStep(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let workflow = try await api.workflow(["name": "Nudge", "trigger": "manual", "oncePerContact": false, "enabled": true, "steps": [
                ["id": "nudge", "type": "send_message", "text": "Hi {{contact.firstName}}, anything else?"],
                ["id": "tag", "type": "add_tag", "tag": "nudged"],
            ]])
            // Messenger, written an hour ago: inside the window, sent as a normal response.
            let (messenger, recent) = try await api.contactOn(.messenger, wroteAgo: 3600)
            #expect(try await api.send(.post, "/api/v1/workflows/\(workflow)/runs", json: ["contactId": recent]).status == .created)
            try await api.settleWorkflows()
            let sent = try await api.services.database.read { db in
                try await db.raw("SELECT m.sender_kind, m.text, o.delivery FROM messages m JOIN outbox o ON o.message_id = m.id").all().map {
                    (try $0.decode(column: "sender_kind", as: String.self), try $0.decode(column: "text", as: String.self),
                     try $0.decode(column: "delivery", as: String.self))
                }
            }
            #expect(sent.count == 1)
            #expect(sent.first?.0 == "workflow")
            #expect(sent.first?.1 == "Hi Ana, anything else?")
            #expect(sent.first?.2.contains("HUMAN_AGENT") == false)

            // Three days later a human could still answer with HUMAN_AGENT; the workflow may not.
            let (_, old) = try await api.contactOn(.messenger, wroteAgo: 3 * 86_400, channel: messenger)
            #expect(try await api.send(.post, "/api/v1/workflows/\(workflow)/runs", json: ["contactId": old]).status == .created)
            try await api.settleWorkflows()
            let run = try #require(try await api.runs(workflow).first)
            #expect((run["contactId"] as? NSNumber)?.int64Value == old)
            #expect(run["status"] as? String == "failed")
            let log = try #require((run["steps"] as? [[String: Any]])?.first)
            #expect(log["outcome"] as? String == "failed")
            #expect((log["detail"] as? String)?.hasPrefix("the message was refused (tag_required): ") == true)
            #expect(try await api.count("outbox") == 1)
            #expect(try await api.contactJSON(old)["tags"] as? [String] == [])
        }
    }
}
