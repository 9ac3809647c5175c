import Foundation
import ParleyCore
import ParleyServer
import ParleyStore
import ParleyTestSupport
import Testing

/// Workflows through the API: bad definitions are refused naming the step, templates are made
/// in one call, and a workflow is edited and switched on and off.
@Suite("Workflow API")
struct WorkflowAPITests {
    static func body(_ steps: [[String: Any]], trigger: String = "conversation_opened") -> [String: Any] {
        ["name": "Test", "trigger": trigger, "oncePerContact": false, "steps": steps]
    }

    @Test(arguments: TestBackend.all)
    func badWorkflowsAreRefusedNamingTheStepAndTheProblem(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let cases: [([[String: Any]], String, String)] = [
                ([["id": "first", "type": "teleport"]], "first", "unknown step type 'teleport'"),
                ([["id": "go", "type": "jump", "target": "nowhere"]], "go", "missing step 'nowhere'"),
                ([["id": "check", "type": "branch", "conditions": []]], "check", "at least one condition"),
                ([["id": "crm", "type": "http_request", "method": "POST", "url": "ht tp://not a url"]], "crm", "is not an http or https URL"),
                ([["id": "a", "type": "unassign"], ["id": "check", "type": "branch", "conditions": [["kind": "tag", "tag": "vip"]], "then": "b"]],
                 "check", "missing step 'b'"),
            ]
            for (steps, step, problem) in cases {
                let reply = try await api.send(.post, "/api/v1/workflows", json: Self.body(steps))
                #expect(reply.status == .badRequest, "\(reply.text)")
                let message = (reply.json["error"] as? [String: Any])?["message"] as? String ?? ""
                #expect(message.contains("step '\(step)'"), "\(message)")
                #expect(message.contains(problem), "\(message)")
            }
            #expect(try await api.count("workflows") == 0)
        }
    }

    @Test func anHTTPStepToAPrivateAddressIsRefusedUnlessTheServerAllowsIt() async throws {
        try await APIHarness.run(.sqlite, targets: .publicOnly) { (api: APIHarness) async throws in
            let reply = try await api.send(.post, "/api/v1/workflows", json: Self.body([
                ["id": "crm", "type": "http_request", "method": "GET", "url": "http://127.0.0.1:9/lookup"],
            ]))
            #expect(reply.status == .badRequest)
            #expect(reply.errorField == "steps[0].url")
            #expect((reply.json["error"] as? [String: Any])?["message"] as? String ?? "" == "step 'crm': 127.0.0.1 is a loopback address; the server only connects to public addresses unless started with --allow-private-targets")
            #expect(try await api.count("workflows") == 0)
        }
    }

    @Test(arguments: TestBackend.all)
    func templatesAreMadeInOneCallAndWorkflowsEditedAndSwitched(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let templates = try await api.send(.get, "/api/v1/workflow-templates")
            #expect(templates.items.compactMap { $0["key"] as? String } == ["vip_routing", "new_vs_returning", "csat_after_close", "unassign_after_close"])
            let missing = try await api.send(.post, "/api/v1/workflows/from-template", json: ["template": "vip_routing"])
            #expect(missing.status == .badRequest)
            #expect(missing.errorField == "options.userIds")

            let id = try await api.template("unassign_after_close")
            let created = try await api.send(.get, "/api/v1/workflows/\(id)")
            #expect(created.json["enabled"] as? Bool == true)
            #expect(created.json["trigger"] as? String == "conversation_closed")
            #expect(created.json["template"] as? String == "unassign_after_close")

            let off = try await api.send(.patch, "/api/v1/workflows/\(id)", json: ["enabled": false])
            #expect(off.json["enabled"] as? Bool == false)
            let renamed = try await api.send(.patch, "/api/v1/workflows/\(id)", json: ["name": "Free the agent", "steps": [["id": "x", "type": "unassign"]]])
            #expect(renamed.status == .ok, "\(renamed.text)")
            #expect(renamed.json["name"] as? String == "Free the agent")
            let bad = try await api.send(.patch, "/api/v1/workflows/\(id)", json: ["steps": [["id": "x", "type": "wait"]]])
            #expect(bad.status == .badRequest)
            #expect(bad.errorField == "steps[0].seconds")
            #expect(try await api.send(.get, "/api/v1/workflows/\(id)").json["name"] as? String == "Free the agent")

            let agent = try await api.user(.agent)
            #expect(try await api.send(.post, "/api/v1/workflows", token: agent.token, json: Self.body([["id": "u", "type": "unassign"]])).status == .forbidden)
            #expect(try await api.send(.get, "/api/v1/workflows", token: agent.token).items.count == 1)
            #expect(try await api.send(.delete, "/api/v1/workflows/\(id)").status == .noContent)
            #expect(try await api.count("workflows") == 0)
        }
    }

    @Test(arguments: TestBackend.all)
    func manualAndIncomingWebhookTriggersStartRuns(backend: TestBackend) async throws {
        try await APIHarness.run(backend) { (api: APIHarness) async throws in
            let contact = try await api.newContact("Ana")
            let manual = try await api.workflow(["name": "Tag by hand", "trigger": "manual", "oncePerContact": true, "enabled": true,
                                                 "steps": [["id": "tag", "type": "add_tag", "tag": "picked"]]])
            #expect(try await api.send(.post, "/api/v1/workflows/\(manual)/runs", json: ["contactId": contact]).status == .created)
            // Once per contact: a second run on the same contact is refused.
            #expect(try await api.send(.post, "/api/v1/workflows/\(manual)/runs", json: ["contactId": contact]).status == .conflict)
            try await api.settleWorkflows()
            #expect(try await api.contactJSON(contact)["tags"] as? [String] == ["picked"])

            #expect(try await api.send(.post, "/api/v1/custom-fields", json: ["key": "plan", "label": "Plan", "type": "text"]).status == .created)
            let hook = try await api.send(.post, "/api/v1/workflows", json: [
                "name": "From the shop", "trigger": "incoming_webhook", "oncePerContact": false, "enabled": true,
                "steps": [["id": "plan", "type": "update_field", "field": "plan", "value": "{{trigger.plan}}"]],
            ])
            let hookId = try #require((hook.json["id"] as? NSNumber)?.int64Value)
            let secret = try #require(hook.json["webhookSecret"] as? String)
            #expect(hook.json["webhookUrl"] as? String == "https://parley.example.com/hooks/workflows/\(hookId)")
            #expect(try await api.send(.get, "/api/v1/workflows/\(hookId)").json["webhookSecret"] == nil)
            let unsigned = try await api.send(.post, "/hooks/workflows/\(hookId)", token: "", json: ["contactId": contact, "plan": "gold"])
            #expect(unsigned.status == .unauthorized)
            let started = try await APIHarness.send(api.client, .post, "/hooks/workflows/\(hookId)", headers: [.init("X-Parley-Secret")!: secret],
                                                    json: ["contactId": contact, "plan": "gold"])
            #expect(started.status == .accepted, "\(started.text)")
            try await api.settleWorkflows()
            #expect((try await api.contactJSON(contact)["customFields"] as? [String: Any])?["plan"] as? String == "gold")
            let run = try #require(try await api.runs(hookId).first)
            #expect(run["status"] as? String == "completed")
            #expect((run["steps"] as? [[String: Any]])?.first?["input"] as? String == "plan = gold")
        }
    }
}
